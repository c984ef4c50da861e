package main

import (
	"context"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// pollers answers DescribeTaskQueue from a table of queues with workers:
// the server's answer, without a server.
type pollers map[string]bool

func (p pollers) DescribeTaskQueue(_ context.Context, q string, typ enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	resp := &workflowservice.DescribeTaskQueueResponse{}
	if p[q+"/"+typ.String()] {
		resp.Pollers = []*taskqueuepb.PollerInfo{{Identity: "w"}}
	}
	return resp, nil
}

// TestIdleQueues: watch names the queue no worker polls and what to do.
func TestIdleQueues(t *testing.T) {
	wf, act := enumspb.TASK_QUEUE_TYPE_WORKFLOW.String(), enumspb.TASK_QUEUE_TYPE_ACTIVITY.String()
	all := pollers{workflows.TaskQueue + "/" + wf: true, workflows.TaskQueue + "/" + act: true, workflows.TrainQueue + "/" + act: true}
	if msg := idleQueues(context.Background(), all); msg != "" {
		t.Errorf("every queue served, but: %q", msg)
	}
	noTrain := pollers{workflows.TaskQueue + "/" + wf: true, workflows.TaskQueue + "/" + act: true}
	msg := idleQueues(context.Background(), noTrain)
	if !strings.Contains(msg, "no worker is serving queue liesweep-train") || !strings.Contains(msg, "liesweep worker") || strings.Contains(msg, "liesweep and") {
		t.Errorf("no training worker: %q", msg)
	}
	if msg := idleQueues(context.Background(), pollers{}); !strings.Contains(msg, "liesweep and liesweep-train") {
		t.Errorf("no worker at all: %q", msg)
	}
}
