package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/workflows"
)

// TestStatusShowsRetries: an activity being retried shows its attempt and
// why the last attempt failed, on its trial's row when a heartbeat ties it
// to one and on a line of its own when it failed before any heartbeat
// (`sweep status` showed "analysing" with neither).
func TestStatusShowsRetries(t *testing.T) {
	v := &statusView{Sweep: "s", State: "running", Phase: "training",
		Trials: []trialView{{
			TrialStatus: workflows.TrialStatus{Latent: 2, NG: 1, Seed: 1, Stage: workflows.StageTraining},
			Activity:    "TrainGenerators", Attempt: 3, LastFailure: "store result: connection refused",
		}},
		Retries: []retryView{{Activity: "AnalyzeClosure", Attempt: 5, LastFailure: "read latents: timeout"}},
	}
	var b bytes.Buffer
	renderStatus(&b, v)
	for _, want := range []string{"(attempt 3; last failure: store result: connection refused)", "retrying AnalyzeClosure, attempt 5; last failure: read latents: timeout"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}

// TestSummaryWithoutProgress: a watch line with no progress (the query
// unanswered, no worker alive) says so instead of "[15:04:05] : ".
func TestSummaryWithoutProgress(t *testing.T) {
	got := summarize(&statusView{Sweep: "s", State: "running"})
	if !strings.HasPrefix(got, "running: ") || !strings.Contains(got, "no worker") {
		t.Errorf("summary %q", got)
	}
}
