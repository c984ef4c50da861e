package sweeps

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestValidateRejectsNonFinite: an infinite or NaN rate, weight or
// threshold is reported with its field (issue 11: +Inf passed validation
// and panicked later).
func TestValidateRejectsNonFinite(t *testing.T) {
	for _, c := range []struct {
		field string
		set   func(*Spec)
	}{
		{"train.lr", func(s *Spec) { s.Train.LR = math.Inf(1) }},
		{"train.h_norm", func(s *Spec) { s.Train.HNorm = math.Inf(1) }},
		{"train.epsilon", func(s *Spec) { s.Train.Epsilon = math.NaN() }},
		{"verdict.inv_ratio", func(s *Spec) { s.Verdict.InvRatio = math.Inf(1) }},
		{"classifier.lr", func(s *Spec) { s.Classifier.LR = math.Inf(1) }},
	} {
		s := DefaultSpec()
		s.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
		s.LatentDims = []int{2}
		s.Normalize()
		c.set(&s)
		err := s.Validate()
		if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: Validate() = %v, want an invalid-spec error naming the field", c.field, err)
		}
	}
	s := DefaultSpec()
	s.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
	s.LatentDims = []int{2}
	s.Classifier = StageTrain{}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Errorf("a spec stored before the classifier section existed: %v (Normalize should give it the defaults)", err)
	}
}
