package ops

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used: on a
// shared machine it is steadier than wall time, which counts the time the
// benchmark waits for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCPU runs f b.N times and reports its CPU time per run as cpu-ns/op.
func benchCPU(b *testing.B, f func()) {
	b.Helper()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		f()
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// Per-layer benchmarks of the autoencoder's convolutions at batch 128:
// forward, weight gradient and input gradient of each.
func BenchmarkConvLayers(b *testing.B) {
	layers := []struct {
		name string
		g    conv3x3Geom
	}{
		{"enc1", conv3x3Geom{B: 128, Cin: 1, H: 28, W: 28, Cout: 16, Stride: 2}},
		{"enc2", conv3x3Geom{B: 128, Cin: 16, H: 14, W: 14, Cout: 32, Stride: 2}},
		{"dec1", conv3x3Geom{B: 128, Cin: 32, H: 14, W: 14, Cout: 16, Stride: 1}},
		{"dec2", conv3x3Geom{B: 128, Cin: 16, H: 28, W: 28, Cout: 1, Stride: 1}},
	}
	for _, l := range layers {
		g := l.g
		r := rand.New(rand.NewPCG(1, 2))
		x := randF32(r, g.B*g.Cin*g.H*g.W)
		w := randF32(r, g.Cout*g.K())
		bias := randF32(r, g.Cout)
		y := randF32(r, g.B*g.Cout*g.P())
		dx := make([]float32, len(x))
		dw := make([]float32, len(w))
		db := make([]float32, g.Cout)
		b.Run(l.name+"/fwd", func(b *testing.B) { benchCPU(b, func() { g.forward(x, w, bias, y, nil) }) })
		b.Run(l.name+"/dw", func(b *testing.B) { benchCPU(b, func() { g.gradWeightBias(x, y, dw, db, nil) }) })
		b.Run(l.name+"/dx", func(b *testing.B) { benchCPU(b, func() { g.gradInput(w, y, dx) }) })
	}
}

// The decoder's fused upsampling convolutions (compare dec1, dec2 of
// BenchmarkConvLayers, which run on the upsampled image).
func BenchmarkUpConvLayers(b *testing.B) {
	layers := []struct {
		name string
		u    upConvGeom
	}{
		{"dec1", upConvGeom{B: 128, Cin: 32, H: 7, W: 7, Cout: 16}},
		{"dec2", upConvGeom{B: 128, Cin: 16, H: 14, W: 14, Cout: 1}},
	}
	for _, l := range layers {
		u := l.u
		r := rand.New(rand.NewPCG(1, 2))
		x := randF32(r, u.B*u.Cin*u.H*u.W)
		w := randF32(r, u.Cout*u.Cin*9)
		bias := randF32(r, u.Cout)
		y := randF32(r, u.B*u.Cout*4*u.H*u.W)
		dx := make([]float32, len(x))
		dw := make([]float32, len(w))
		b.Run(l.name+"/fwd", func(b *testing.B) { benchCPU(b, func() { u.forward(x, w, bias, y, nil) }) })
		b.Run(l.name+"/dw", func(b *testing.B) { benchCPU(b, func() { u.gradWeight(x, y, dw, nil) }) })
		b.Run(l.name+"/dx", func(b *testing.B) { benchCPU(b, func() { u.gradInput(w, y, dx) }) })
	}
}
