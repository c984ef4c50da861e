// Package reporttest holds the checks a report's tests share: images that
// decode and are not blank, and the HTML page opened in headless Chromium.
package reporttest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// CheckImages fails t unless every image (name → PNG bytes) decodes as a
// PNG of a plausible size with more than a handful of colours (not blank).
func CheckImages(t *testing.T, images map[string][]byte) {
	t.Helper()
	if len(images) == 0 {
		t.Fatal("report has no images")
	}
	for name, b := range images {
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: not a PNG: %v", name, err)
			continue
		}
		r := m.Bounds()
		if r.Dx() < 80 || r.Dy() < 80 || r.Dx() > 8000 || r.Dy() > 8000 {
			t.Errorf("%s: size %dx%d", name, r.Dx(), r.Dy())
		}
		if n := colours(m); n < 3 {
			t.Errorf("%s: %d distinct colours: blank", name, n)
		}
	}
}

func colours(m image.Image) int {
	seen := map[[4]uint32]bool{}
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bb, a := m.At(x, y).RGBA()
			seen[[4]uint32{r, g, bb, a}] = true
			if len(seen) > 64 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// OpenInChromium loads the HTML report in headless Chromium and checks
// that every image decoded (the page's own load handler counts them) and
// that a screenshot of it is not blank. Without Chromium the test is
// skipped, unless LIESWEEP_REQUIRE_CHROMIUM=1 (as in CI) makes it fail.
func OpenInChromium(t *testing.T, page string, images int) {
	t.Helper()
	bin := ""
	for _, c := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(c); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("LIESWEEP_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("chromium not found (apt-get install chromium) and LIESWEEP_REQUIRE_CHROMIUM=1")
		}
		t.Skip("chromium not installed (apt-get install chromium): HTML report not opened")
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, forbidden := range []string{"http://", "https://", "src=\"plots/"} {
		if bytes.Contains(b, []byte(forbidden)) {
			t.Errorf("report.html is not self-contained: contains %q", forbidden)
		}
	}
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000"}
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(append([]string{}, flags...), args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
		}
		return out
	}
	dom := run("--dump-dom", "file://"+page)
	m := regexp.MustCompile(`data-images="(\d+)/(\d+)"`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the page's load handler did not run: no data-images count in the DOM")
	}
	if string(m[1]) != string(m[2]) || string(m[2]) != strconv.Itoa(images) {
		t.Errorf("Chromium decoded %s of %s images, report has %d", m[1], m[2], images)
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	run("--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if n := colours(img); n < 16 {
		t.Errorf("screenshot has %d colours: the plots are not on it", n)
	}
	if dir := os.Getenv("LIESWEEP_KEEP_SCREENSHOT"); dir != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(filepath.Join(dir, filepath.Base(filepath.Dir(page))+"-screenshot.png"), b, 0o644)
	}
}
