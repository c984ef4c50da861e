package sweeps

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzResultJSON decodes arbitrary bytes as result.json and verdict.json:
// never a panic, and what decodes marshals back to JSON that decodes to
// the same document (the round trip is stable).
func FuzzResultJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var r TrialResult
		if json.Unmarshal(b, &r) == nil {
			roundTrip(t, &r, new(TrialResult))
		}
		var v VerdictDoc
		if json.Unmarshal(b, &v) == nil {
			roundTrip(t, &v, new(VerdictDoc))
		}
	})
}

// roundTrip marshals v, decodes that into fresh and checks it marshals to
// the same bytes.
func roundTrip(t *testing.T, v, fresh any) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	if err := json.Unmarshal(out, fresh); err != nil {
		t.Fatalf("decode %T's own JSON %s: %v", v, out, err)
	}
	again, err := json.Marshal(fresh)
	if err != nil {
		t.Fatalf("marshal %T again: %v", v, err)
	}
	if !bytes.Equal(out, again) {
		t.Errorf("%T round trip changed:\n%s\n%s", v, out, again)
	}
}
