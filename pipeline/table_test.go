package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
)

// knownCSV writes the known table name as CSV bytes.
func knownCSV(t *testing.T, name string, rows int, seed uint64) []byte {
	t.Helper()
	k, err := datasets.FindKnownTable(name)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := datasets.WriteTable(&b, "t.csv", k.Generate(rows, seed)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tableSpec is a small table spec: ψ and linear generators trained for a
// few epochs, enough to exercise every stage (not to find an algebra).
func tableSpec(task string) *sweeps.Spec {
	s := sweeps.DefaultSpec()
	s.Dataset = sweeps.Dataset{Kind: "table", Path: "t.csv", Target: "y", Task: task}
	s.Generator = sweeps.Generator{Kind: "linear", Orthogonality: "global", Closure: "joint"}
	s.OracleNet.Epochs = 5
	s.Train.Epochs, s.Train.CheckpointEvery, s.Train.EvalPoints, s.Train.EarlyStop = 20, 10, 50, false
	s.NG = []int{2}
	s.Normalize()
	return &s
}

// TestTableTrialStagesAndKeys runs a classification and a regression
// trial on a staged table: the table lands in the store once under its
// SHA-256, the split's standardisation statistics are stored with the
// latents, ψ's validation accuracy or R² is in the result, a second run
// reuses every stage, and one changed byte of the data changes every stage
// key (so it retrains).
func TestTableTrialStagesAndKeys(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ task, name string }{{sweeps.TaskClassification, "sphere3"}, {sweeps.TaskRegression, "norm5"}} {
		t.Run(c.task, func(t *testing.T) {
			data := knownCSV(t, c.name, 300, 1)
			st, _ := filestore.New(t.TempDir())
			spec := tableSpec(c.task)
			tb, err := StageTable(ctx, st, spec, "t.csv", data)
			if err != nil {
				t.Fatal(err)
			}
			if err := spec.Validate(); err != nil {
				t.Fatalf("staged spec: %v", err)
			}
			if spec.Dataset.Digest != sweeps.Digest(data) || spec.Dataset.Object != TableObjectKey(spec.Dataset.Digest, "t.csv") {
				t.Fatalf("digest %s object %s", spec.Dataset.Digest, spec.Dataset.Object)
			}
			if len(spec.LatentDims) != 1 || spec.LatentDims[0] != tb.D {
				t.Fatalf("latent_dims %v, want [%d] (the features)", spec.LatentDims, tb.D)
			}
			if got, err := st.Get(ctx, spec.Dataset.Object); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("staged bytes: %d, %v", len(got), err)
			}
			trial := sweeps.Trial{Latent: tb.D, NG: 2, Seed: 1}
			res, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, Out{})
			if err != nil {
				t.Fatal(err)
			}
			if c.task == sweeps.TaskRegression {
				if res.OracleR2 == nil || res.OracleAccuracy != nil {
					t.Fatalf("regression result: R² %v, accuracy %v", res.OracleR2, res.OracleAccuracy)
				}
			} else if res.OracleAccuracy == nil || *res.OracleAccuracy < 0.5 {
				t.Fatalf("classifier accuracy %v", res.OracleAccuracy)
			}
			lb, err := st.Get(ctx, res.Artifacts[sweeps.StageLatents])
			if err != nil {
				t.Fatal(err)
			}
			_, meta, err := models.ReadSafetensors(bytes.NewReader(lb))
			if err != nil {
				t.Fatal(err)
			}
			var mean, std []float64
			if json.Unmarshal([]byte(meta["feature_mean"]), &mean) != nil || json.Unmarshal([]byte(meta["feature_std"]), &std) != nil || len(mean) != tb.D || len(std) != tb.D {
				t.Fatalf("stored statistics %q %q", meta["feature_mean"], meta["feature_std"])
			}
			for j := range std {
				// Gaussian features: mean ≈ 0, sd ≈ 1 over ~225 rows
				if math.Abs(mean[j]) > 0.3 || math.Abs(std[j]-1) > 0.3 {
					t.Errorf("feature %d: mean %v sd %v, not the data's", j, mean[j], std[j])
				}
			}
			// the report's view of the trial: a classifier's evaluation
			// points carry their labels, named by the original label
			tr, err := (&Runner{Store: st}).Load(ctx, spec, trial)
			if err != nil {
				t.Fatal(err)
			}
			if c.task == sweeps.TaskClassification {
				if len(tr.ValY) != len(tr.Val) || !slices.Equal(tr.ClassNames, []string{"y = 0", "y = 1"}) {
					t.Errorf("loaded trial: %d labels for %d points, class names %q", len(tr.ValY), len(tr.Val), tr.ClassNames)
				}
			} else if tr.ValY != nil || tr.ClassNames != nil {
				t.Errorf("regression trial with labels %v names %q", tr.ValY, tr.ClassNames)
			}
			again, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, Out{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range again.Stages {
				if s.Stage != sweeps.StageAnalysis && !s.Reused {
					t.Errorf("second run trained %s again", s.Stage)
				}
			}

			// one byte changed: every stage key changes
			changed := bytes.Clone(data)
			i := bytes.LastIndexAny(changed, "123456789")
			changed[i] = '0' + (changed[i]-'0')%9 + 1
			spec2 := tableSpec(c.task)
			if _, err := StageTable(ctx, st, spec2, "t.csv", changed); err != nil {
				t.Fatal(err)
			}
			k1, k2 := sweeps.StageKeys(spec, trial), sweeps.StageKeys(spec2, trial)
			if k1.Latents == k2.Latents || k1.Oracle == k2.Oracle || k1.Generators == k2.Generators {
				t.Errorf("a changed byte kept a stage key: %+v vs %+v", k1, k2)
			}
			// the same bytes again are not uploaded twice (same object)
			spec3 := tableSpec(c.task)
			if _, err := StageTable(ctx, st, spec3, "t.csv", data); err != nil || spec3.Dataset.Object != spec.Dataset.Object {
				t.Errorf("restaging: %v, object %s vs %s", err, spec3.Dataset.Object, spec.Dataset.Object)
			}
		})
	}
}

// TestStageTableRejectsBadData: bad data fails before anything is stored,
// with a DataError naming the file and where.
func TestStageTableRejectsBadData(t *testing.T) {
	ctx := context.Background()
	good := string(knownCSV(t, "sphere3", 100, 1))
	lines := strings.Split(good, "\n")
	nan := append([]string(nil), lines...)
	nan[5] = "1,nan,2,0"
	frac := append([]string(nil), lines...)
	frac[7] = "1,2,3,0.5"
	for name, c := range map[string]struct {
		data   string
		spec   func(*sweeps.Spec)
		expect string
	}{
		"nan":          {strings.Join(nan, "\n"), nil, "row 6"},
		"fractional":   {strings.Join(frac, "\n"), nil, "row 8"},
		"missing":      {good, func(s *sweeps.Spec) { s.Dataset.Target = "label" }, "label"},
		"one class":    {"x0,x1,y\n" + strings.Repeat("1,2,1\n", 50), nil, "class"},
		"too few rows": {"x0,x1,y\n" + strings.Repeat("1,2,1\n3,4,0\n", 8), nil, "rows"},
		"ℓ too large":  {good, func(s *sweeps.Spec) { s.LatentDims = []int{4} }, "at most 3"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			st, _ := filestore.New(dir)
			spec := tableSpec(sweeps.TaskClassification)
			if c.spec != nil {
				c.spec(spec)
			}
			_, err := StageTable(ctx, st, spec, "t.csv", []byte(c.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.expect) {
				t.Errorf("error %q does not say %q", err, c.expect)
			}
			if var_ := (*datasets.DataError)(nil); !errors.As(err, &var_) && !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Errorf("error %v is neither a DataError nor an invalid spec", err)
			}
			if keys, _ := st.List(ctx, ""); len(keys) != 0 {
				t.Errorf("bad data left %v in the store", keys)
			}
			if spec.Dataset.Digest != "" || spec.Dataset.Object != "" {
				t.Errorf("bad data set digest %q object %q", spec.Dataset.Digest, spec.Dataset.Object)
			}
		})
	}
}

// TestTableAutoencoderBelowFeatures: ℓ below the number of features puts
// an MLP autoencoder in front (the paper's latent flows for tables): the
// trial trains it, stores it, flows on its standardised latents, and a
// second run reuses it; ℓ above the features is refused.
func TestTableAutoencoderBelowFeatures(t *testing.T) {
	ctx := context.Background()
	data := knownCSV(t, "norm5", 300, 1)
	st, _ := filestore.New(t.TempDir())
	spec := tableSpec(sweeps.TaskRegression)
	spec.LatentDims = []int{3, 5}
	spec.Autoencoder.Epochs = 5
	if _, err := StageTable(ctx, st, spec, "t.csv", data); err != nil {
		t.Fatal(err)
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	k3, k5 := sweeps.StageKeys(spec, sweeps.Trial{Latent: 3, NG: 2, Seed: 1}), sweeps.StageKeys(spec, sweeps.Trial{Latent: 5, NG: 2, Seed: 1})
	if k3.Autoencoder == "" || k5.Autoencoder != "" {
		t.Fatalf("autoencoder keys: ℓ=3 %q, ℓ=5 %q (want one only below the 5 features)", k3.Autoencoder, k5.Autoencoder)
	}
	trial := sweeps.Trial{Latent: 3, NG: 2, Seed: 1}
	res, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	var ae *sweeps.StageRun
	for i, s := range res.Stages {
		if s.Stage == sweeps.StageAutoencoder {
			ae = &res.Stages[i]
		}
	}
	if ae == nil || ae.Reused || ae.Key != k3.Autoencoder {
		t.Fatalf("stages %+v: want the autoencoder %s trained", res.Stages, k3.Autoencoder)
	}
	if ok, _ := st.Exists(ctx, sweeps.ArtifactKey(sweeps.StageAutoencoder, k3.Autoencoder, "weights.safetensors")); !ok {
		t.Error("the table autoencoder is not stored")
	}
	if res.LatentDim != 3 || len(res.StructureConstants) != 2 {
		t.Errorf("result ℓ = %d with %d generators' constants", res.LatentDim, len(res.StructureConstants))
	}
	// the latents are stored: a second trial of another N_g reuses them
	again, err := (&Runner{Store: st}).RunTrial(ctx, spec, sweeps.Trial{Latent: 3, NG: 1, Seed: 1}, Out{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range again.Stages {
		if (s.Stage == sweeps.StageLatents || s.Stage == sweeps.StageOracle) && !s.Reused {
			t.Errorf("N_g = 1 trained %s again", s.Stage)
		}
	}
	bad := tableSpec(sweeps.TaskRegression)
	bad.LatentDims = []int{6}
	if _, err := CheckTable(bad, "t.csv", data); err == nil || !strings.Contains(err.Error(), "at most 5") {
		t.Errorf("ℓ = 6 on 5 features: %v", err)
	}
}

// countingStore counts the reads of each key.
type countingStore struct {
	sweeps.ArtifactStore
	mu   sync.Mutex
	gets map[string]int
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	s.gets[key]++
	s.mu.Unlock()
	return s.ArtifactStore.Get(ctx, key)
}

// TestLoadTableOnce: the trials of one runner (every ℓ and seed, from
// concurrent activities) read a staged table from the store once; other
// columns of the same bytes are another table; a failed read (the object
// gone) is an error every time, not a cached one; and the runner keeps at
// most maxLoads data sets.
func TestLoadTableOnce(t *testing.T) {
	ctx := context.Background()
	data := knownCSV(t, "sphere3", 200, 1)
	fs, _ := filestore.New(t.TempDir())
	st := &countingStore{ArtifactStore: fs, gets: map[string]int{}}
	spec := tableSpec(sweeps.TaskClassification)
	if _, err := StageTable(ctx, st, spec, "t.csv", data); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Store: st}
	var wg sync.WaitGroup
	tabs := make([]*datasets.Table, 8)
	for i := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tb, err := r.WithProgress(nil).loadTable(ctx, spec)
			if err != nil {
				t.Error(err)
			}
			tabs[i] = tb
		}()
	}
	wg.Wait()
	if st.gets[spec.Dataset.Object] != 1 || tabs[0] == nil || tabs[0] != tabs[7] {
		t.Fatalf("%d reads of the table for 8 loads (shared: %v)", st.gets[spec.Dataset.Object], tabs[0] == tabs[7])
	}
	two := *spec
	two.Dataset.Features = []string{"x0", "x1"}
	tb, err := r.loadTable(ctx, &two)
	if err != nil || tb.D != 2 || st.gets[spec.Dataset.Object] != 2 {
		t.Fatalf("features [x0 x1]: D %v, %v, %d reads", tb, err, st.gets[spec.Dataset.Object])
	}
	gone := *spec
	gone.Dataset.Digest, gone.Dataset.Object = strings.Repeat("0", 64), "data/missing/t.csv"
	for range 2 {
		if _, err := r.loadTable(ctx, &gone); !errors.Is(err, sweeps.ErrInvalidSpec) {
			t.Fatalf("missing object: %v", err)
		}
	}
	if st.gets["data/missing/t.csv"] != 2 {
		t.Errorf("the failed read was cached: %d reads for 2 loads", st.gets["data/missing/t.csv"])
	}
	for i := range maxLoads + 2 {
		other := *spec
		other.Dataset.Features = []string{"x" + strconv.Itoa(i%3)}
		other.Dataset.Target = "y"
		other.Dataset.XArray = strconv.Itoa(i) // another key, same columns
		if _, err := r.loadTable(ctx, &other); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.cache.loads); n > maxLoads {
		t.Errorf("%d data sets kept, bound %d", n, maxLoads)
	}
}

// TestCachedLoadFirstCallerCancelled: the caller that starts a load gives
// up; another caller waiting for the same key still gets the data, and a
// load that panics is an error, not a wait forever.
func TestCachedLoadFirstCallerCancelled(t *testing.T) {
	r := &Runner{}
	started, release := make(chan struct{}), make(chan struct{})
	ctx1, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := cachedLoad(ctx1, r, "k", func(ctx context.Context) (int, error) {
			close(started)
			<-release
			return 7, ctx.Err()
		})
		errc <- err
	}()
	<-started
	vc := make(chan int, 1)
	go func() {
		v, err := cachedLoad(context.Background(), r, "k", func(context.Context) (int, error) { return 0, errors.New("loaded twice") })
		if err != nil {
			t.Error(err)
		}
		vc <- v
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled caller got %v, want context.Canceled", err)
	}
	close(release)
	if v := <-vc; v != 7 {
		t.Errorf("the other caller got %d, want 7 (the load must not see the first caller's cancellation)", v)
	}
	if _, err := cachedLoad(context.Background(), r, "p", func(context.Context) (int, error) { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a panicking load: %v", err)
	}
}

// TestTableObjectKeyIsAStoreKey: whatever the file is called (a space, ψ,
// dots), its object key is a valid store key that keeps the extension.
func TestTableObjectKeyIsAStoreKey(t *testing.T) {
	d := sweeps.Digest([]byte("x"))
	for _, name := range []string{"t.csv", "my data.csv", "ψ-table.parquet", "dir/x₀ y.npz", "..", ".csv", "a/b/..npy", "日本.npy"} {
		k := TableObjectKey(d, name)
		if err := sweeps.ValidateKey(k); err != nil {
			t.Errorf("%q: %v", name, err)
		}
		if ext := path.Ext(name); ext != "" && ext != "." && path.Ext(k) != ext {
			t.Errorf("%q: key %s lost the extension %s", name, k, ext)
		}
	}
}

// TestDivergedOracleFailsItsTrials: a ψ whose training diverges is the
// outcome of every trial that needs it, on both paths: RunTrial stores a
// failed result saying so, and TrainGeneratorsStage (the sweep's training
// activity) returns a TrialFailedError for FailTrial. It aborted `run`
// with "run again to resume" for ever, and dropped the trials on Temporal.
func TestDivergedOracleFailsItsTrials(t *testing.T) {
	ctx := context.Background()
	st, _ := filestore.New(t.TempDir())
	spec := tableSpec(sweeps.TaskRegression)
	spec.OracleNet.LR = 1e300
	tb, err := StageTable(ctx, st, spec, "t.csv", knownCSV(t, "norm5", 300, 1))
	if err != nil {
		t.Fatal(err)
	}
	trial := sweeps.Trial{Latent: tb.D, NG: 2, Seed: 1}
	res, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, Out{Sweep: "s", Key: sweeps.ResultKey("s", trial)})
	if err != nil || res.Passed || !strings.Contains(strings.Join(res.Notes, "; "), "before the generators") {
		t.Fatalf("RunTrial: %v, result %+v; want a failed result noting the diverged ψ", err, res)
	}
	_, err = (&Runner{Store: st}).TrainGeneratorsStage(ctx, spec, trial)
	var tf *TrialFailedError
	if !errors.As(err, &tf) || !strings.Contains(tf.What, "before the generators") {
		t.Errorf("TrainGeneratorsStage: %v, want a TrialFailedError", err)
	}
}
