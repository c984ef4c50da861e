package report

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/color"
	"regexp"
	"strings"
)

var (
	colorBlack  = color.RGBA{A: 255}
	colorStream = color.RGBA{R: 255, G: 210, B: 0, A: 255}
)

var (
	imageLine = regexp.MustCompile(`^!\[([^\]]*)\]\(plots/([^)]+)\)$`)
	bold      = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// HTML renders the report as one self-contained page: the Markdown's
// headings, paragraphs, tables and code blocks as HTML, every plot embedded
// as a data: URI, no script from and no request to anywhere else. A small
// inline script marks the body with data-images="decoded/total" once the
// page has loaded, for a headless browser to check.
func (rep *Report) HTML() []byte {
	pngs := map[string][]byte{}
	for _, img := range rep.Images {
		pngs[img.Name] = img.PNG
	}
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>liesweep report: ` + html.EscapeString(rep.Sweep) + `</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}img{max-width:100%;border:1px solid #ddd}pre{background:#f6f6f6;padding:.6em}
h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
</style></head>
<body data-images="pending">
`)
	lines := strings.Split(rep.Markdown, "\n")
	inline := func(s string) string {
		return bold.ReplaceAllString(html.EscapeString(s), "<strong>$1</strong>")
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
		case strings.HasPrefix(l, "### "):
			b.WriteString("<h3>" + inline(l[4:]) + "</h3>\n")
		case strings.HasPrefix(l, "## "):
			b.WriteString("<h2>" + inline(l[3:]) + "</h2>\n")
		case strings.HasPrefix(l, "# "):
			b.WriteString("<h1>" + inline(l[2:]) + "</h1>\n")
		case strings.HasPrefix(l, "    "):
			b.WriteString("<pre>")
			for ; i < len(lines) && strings.HasPrefix(lines[i], "    "); i++ {
				b.WriteString(html.EscapeString(lines[i][4:]) + "\n")
			}
			i--
			b.WriteString("</pre>\n")
		case strings.HasPrefix(l, "|"):
			b.WriteString("<table>\n")
			row := 0
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				cells := strings.Split(strings.Trim(lines[i], "|"), "|")
				if strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
					continue
				}
				tag := "td"
				if row == 0 {
					tag = "th"
				}
				b.WriteString("<tr>")
				for _, c := range cells {
					b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(c)) + "</" + tag + ">")
				}
				b.WriteString("</tr>\n")
				row++
			}
			i--
			b.WriteString("</table>\n")
		case imageLine.MatchString(l):
			m := imageLine.FindStringSubmatch(l)
			b.WriteString(`<p><img alt="` + html.EscapeString(m[1]) + `" src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(pngs[m[2]]) + `"></p>` + "\n")
		default:
			b.WriteString("<p>" + inline(l) + "</p>\n")
		}
	}
	b.WriteString(`<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script>
</body></html>
`)
	return b.Bytes()
}
