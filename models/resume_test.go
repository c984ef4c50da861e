package models

import (
	"bytes"
	"context"
	"errors"
	"github.com/liesweep/liesweep/sweeps"
	"math"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"gorgonia.org/tensor"
)

func paramsEqual(t *testing.T, a, b Params) {
	t.Helper()
	for i := range a {
		switch x := a[i].Dense.Data().(type) {
		case []float64:
			y := b[i].Dense.Data().([]float64)
			for j := range x {
				if math.Float64bits(x[j]) != math.Float64bits(y[j]) {
					t.Fatalf("%s[%d]: %v vs %v — resumed weights differ", a[i].Name, j, x[j], y[j])
				}
			}
		case []float32:
			y := b[i].Dense.Data().([]float32)
			for j := range x {
				if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
					t.Fatalf("%s[%d]: %v vs %v — resumed weights differ", a[i].Name, j, x[j], y[j])
				}
			}
		}
	}
}

// stopAfter makes a hook set that saves every `every` epochs and cancels
// training right after the checkpoint at epoch `at`.
func stopAfter(every, at int, cancel context.CancelFunc, saved *[]byte) Hooks {
	return Hooks{CheckpointEvery: every, OnCheckpoint: func(c *Checkpoint) error {
		b, err := c.Encode()
		if err != nil {
			return err
		}
		if c.Epoch == at {
			*saved = b
			cancel()
		}
		return nil
	}}
}

// TestResumeEqualsUninterrupted: a run stopped after a checkpoint and
// resumed from it (weights, Adam moments, step) ends bit for bit where an
// uninterrupted run ends — for mini-batch training, where the data order of
// each epoch must be a pure function of (seed, epoch), and full batch.
func TestResumeEqualsUninterrupted(t *testing.T) {
	t.Run("oracle mini-batch", func(t *testing.T) {
		z := datasets.GaussianSamples(96, 2, 1, 0)
		y := make([]int, len(z))
		for i, p := range z {
			if p[0]+p[1] > 0 {
				y[i] = 1
			}
		}
		cfg := OracleConfig{Classes: 2, Epochs: 6, LR: 1e-2, Batch: 16, Seed: 3, Preserve: PreserveLogits}
		full, err := TrainOracle(context.Background(), cfg, z, z, y, y, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var saved []byte
		_, err = TrainOracle(ctx, cfg, z, z, y, y, stopAfter(2, 4, cancel, &saved))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v", err)
		}
		like := OracleTrainParams(cfg.Seed, 2, PaperOracle(2))
		c, err := DecodeCheckpoint(saved, "oracle", like)
		if err != nil {
			t.Fatal(err)
		}
		if c.Epoch != 4 || c.Adam.Step != 4*6 || len(c.Losses) != 4 {
			t.Fatalf("checkpoint at epoch %d, step %d, %d loss entries; want 4, 24, 4", c.Epoch, c.Adam.Step, len(c.Losses))
		}
		// A checkpoint of another learning rate is another training:
		// resuming it would silently mix two runs.
		other := cfg
		other.LR = 2e-2
		if _, err := TrainOracle(context.Background(), other, z, z, y, y, Hooks{Resume: c}); !errors.Is(err, sweeps.ErrCorrupt) || !strings.Contains(err.Error(), "learning rate 0.01") {
			t.Errorf("resume with another learning rate: %v, want it refused naming both", err)
		}
		resumed, err := TrainOracle(context.Background(), cfg, z, z, y, y, Hooks{Resume: c})
		if err != nil {
			t.Fatal(err)
		}
		paramsEqual(t, full.Oracle.Net.Params, resumed.Oracle.Net.Params)
		if len(resumed.Losses) != 6 || resumed.Losses[5]["total"] != full.Losses[5]["total"] {
			t.Errorf("loss history %v vs %v", resumed.Losses, full.Losses)
		}
	})
	t.Run("generators full batch", func(t *testing.T) {
		o, z, cfg, full := generatorsFixture(t)
		ctx, cancel := context.WithCancel(context.Background())
		var saved []byte
		TrainGenerators(ctx, o, z, cfg, stopAfter(10, 20, cancel, &saved))
		resumeGeneratorsEqual(t, o, z, cfg, saved, full)
	})
	t.Run("autoencoder float32", func(t *testing.T) {
		imgs := make([][]float32, 48)
		for i := range imgs {
			imgs[i] = make([]float32, 784)
			for j := range imgs[i] {
				imgs[i][j] = float32((i*7+j*13)%17) / 17
			}
		}
		cfg := AEConfig{Latent: 2, Epochs: 3, LR: 1e-3, Batch: 16, Seed: 9}
		full, err := TrainAutoencoder(context.Background(), cfg, imgs, nil, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var saved []byte
		TrainAutoencoder(ctx, cfg, imgs, nil, stopAfter(1, 1, cancel, &saved))
		c, err := DecodeCheckpoint(saved, "autoencoder", NewAutoencoder(9, 2).Params())
		if err != nil {
			t.Fatal(err)
		}
		resumed, err := TrainAutoencoder(context.Background(), cfg, imgs, nil, Hooks{Resume: c})
		if err != nil {
			t.Fatal(err)
		}
		paramsEqual(t, full.AE.Params(), resumed.AE.Params())
	})
}

func TestCheckpointCorruption(t *testing.T) {
	like := NewMLPOracle(1, 2, 2, PreserveLogits).Net.Params
	c := &Checkpoint{Stage: "oracle", Epoch: 3, Params: like, Adam: NewAdam(1e-3, like)}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated":   b[:len(b)/2],
		"empty":       nil,
		"wrong stage": mustEncode(t, &Checkpoint{Stage: "generators", Params: like}),
		"wrong shape": mustEncode(t, &Checkpoint{Stage: "oracle", Params: NewMLPOracle(1, 3, 2, PreserveLogits).Net.Params}),
	} {
		if _, err := DecodeCheckpoint(bad, "oracle", like); !errors.Is(err, sweeps.ErrCorrupt) {
			t.Errorf("%s: want sweeps.ErrCorrupt, got %v", name, err)
		}
	}
}

func mustEncode(t *testing.T, c *Checkpoint) []byte {
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSafetensorsLayout checks the byte layout against the format's
// specification on a hand-built file: u64 header length, JSON header with
// dtype/shape/data_offsets, little-endian data.
func TestSafetensorsLayout(t *testing.T) {
	var buf bytes.Buffer
	x := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{1, -2}))
	if err := WriteSafetensors(&buf, map[string]*tensor.Dense{"w": x}, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	hl := int(b[0]) | int(b[1])<<8
	header := string(bytes.TrimRight(b[8:8+hl], " "))
	if want := `{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}`; header != want {
		t.Errorf("header %s\nwant   %s", header, want)
	}
	if hl%8 != 0 {
		t.Errorf("header length %d is not 8-aligned", hl)
	}
	if data := b[8+hl:]; !bytes.Equal(data, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}) {
		t.Errorf("data % x, want float32 1, -2 little-endian", data)
	}
	ts, meta, err := ReadSafetensors(bytes.NewReader(b))
	if err != nil || meta["k"] != "v" || ts["w"].Data().([]float32)[1] != -2 {
		t.Errorf("round trip: %v %v %v", ts, meta, err)
	}
}

// TestHandBackOnStop: when the worker's stop channel closes mid-training,
// the stage finishes its epoch, writes a checkpoint there (between the
// periodic ones) and returns ErrHandedBack; resuming from that checkpoint
// ends bit for bit where an uninterrupted run ends. Without checkpoints the
// stage trains on to the end instead (a hand-back would lose every epoch).
func TestHandBackOnStop(t *testing.T) {
	o, z, cfg, full := generatorsFixture(t)
	stop := make(chan struct{})
	var saved []byte
	var epochs []int
	h := Hooks{
		CheckpointEvery: 10,
		OnEpoch: func(r EpochReport) {
			if r.Epoch == 13 {
				close(stop) // the worker got SIGTERM during epoch 13
			}
		},
		OnCheckpoint: func(c *Checkpoint) error {
			epochs = append(epochs, c.Epoch)
			b, err := c.Encode()
			saved = b
			return err
		},
	}
	_, err := TrainGenerators(WithStop(context.Background(), stop), o, z, cfg, h)
	if !errors.Is(err, ErrHandedBack) {
		t.Fatalf("stopped run: %v, want ErrHandedBack", err)
	}
	if want := []int{10, 13}; len(epochs) != 2 || epochs[0] != want[0] || epochs[1] != want[1] {
		t.Fatalf("checkpoints at epochs %v, want %v (the periodic one, then one at once)", epochs, want)
	}
	resumeGeneratorsEqual(t, o, z, cfg, saved, full)

	closed := make(chan struct{})
	close(closed)
	res, err := TrainGenerators(WithStop(context.Background(), closed), o, z, cfg, Hooks{})
	if err != nil {
		t.Fatalf("without checkpoints: %v, want training to the end", err)
	}
	paramsEqual(t, append(full.Set.Params, full.Coeffs), append(res.Set.Params, res.Coeffs))
}

// resumeGeneratorsEqual resumes the generators' training from the encoded
// checkpoint saved and checks it ends bit for bit where full ended.
func resumeGeneratorsEqual(t *testing.T, o Oracle, z [][]float64, cfg GenConfig, saved []byte, full *GenResult) {
	t.Helper()
	like, _ := GeneratorParams(cfg, len(z[0]))
	c, err := DecodeCheckpoint(saved, "generators", like)
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{Resume: c})
	if err != nil {
		t.Fatal(err)
	}
	paramsEqual(t, append(full.Set.Params, full.Coeffs), append(resumed.Set.Params, resumed.Coeffs))
}

// generatorsFixture is the resume tests' generator training: two MLP
// fields on 50 points of the norm oracle in R³, and its uninterrupted run.
func generatorsFixture(t *testing.T) (Oracle, [][]float64, GenConfig, *GenResult) {
	t.Helper()
	ex, _ := datasets.AnalyticOracle("norm", 3, nil)
	o := NewExprOracle(3, ex)
	z := datasets.GaussianSamples(50, 3, 2, 0)
	cfg := GenConfig{Kind: GenMLP, Hidden: []int{8}, N: 2, Orthogonality: OrthoPointwise, Normalization: NormPointwise, Closure: ClosureJoint, Epochs: 30, LR: 1e-2, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, Seed: 5}
	full, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return o, z, cfg, full
}
