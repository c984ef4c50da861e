package models

import (
	"context"
	"testing"

	"github.com/liesweep/liesweep/datasets"
)

// Benchmarks of the training workloads of issue 6 (one epoch = one
// iteration): run with `make bench`; they report items per second.

func BenchmarkAutoencoderEpoch(b *testing.B) {
	imgs := make([][]float32, 512)
	for i := range imgs {
		imgs[i] = make([]float32, 784)
		for j := range imgs[i] {
			imgs[i][j] = float32((i*7+j*13)%17) / 17
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := TrainAutoencoder(context.Background(), AEConfig{Latent: 16, Epochs: 1, LR: 1e-3, Batch: 128, Seed: 1}, imgs, nil, Hooks{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkOracleEpoch(b *testing.B) {
	z := datasets.GaussianSamples(8192, 16, 1, 0)
	y := make([]int, len(z))
	for i := range y {
		y[i] = i % 10
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := TrainOracle(context.Background(), OracleConfig{Classes: 10, Epochs: 1, LR: 1e-3, Batch: 128, Seed: 1, Preserve: PreserveLogits}, z, z[:10], y, y[:10], Hooks{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(8192*b.N)/b.Elapsed().Seconds(), "pts/s")
}

func benchmarkGenerators(b *testing.B, ng int) {
	o := NewMLPOracle(1, 16, 10, PreserveLogits)
	z := datasets.GaussianSamples(1024, 16, 1, 0)
	cfg := GenConfig{Kind: GenMLP, Hidden: []int{32, 32}, N: ng, Orthogonality: OrthoPointwise, Normalization: NormPointwise, Closure: ClosurePostHoc, Epochs: 10, LR: 1e-3, Epsilon: 1e-3, Batch: 128, HNorm: 1, HOrtho: 1, Seed: 1}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1024*10*b.N)/b.Elapsed().Seconds(), "pts/s")
}

func BenchmarkGeneratorsNg1(b *testing.B)  { benchmarkGenerators(b, 1) }
func BenchmarkGeneratorsNg4(b *testing.B)  { benchmarkGenerators(b, 4) }
func BenchmarkGeneratorsNg10(b *testing.B) { benchmarkGenerators(b, 10) }
