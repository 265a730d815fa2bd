package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// row is one line of the report.
type row struct {
	metric  string
	cells   [2]string // strata, restic
	ratio   string
	target  string
	verdict string
}

// report prints the table and, below it, the errors of failed steps.
func (b *bench) report(out io.Writer) {
	fmt.Fprintf(out, "\nstrata vs restic: main set %s in %d files (v2: %d files changed), many-files set %d files\n\n",
		human(float64(b.main.bytes(1))), len(b.main.files), b.changedCount(), len(b.many.files))
	b.levelLine(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tstrata\trestic\tstrata/restic\ttarget\tresult")
	for _, r := range b.rows() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.metric, r.cells[0], r.cells[1], r.ratio, r.target, r.verdict)
	}
	w.Flush()
	b.printErrors(out)
}

func (b *bench) changedCount() int {
	n := 0
	for _, f := range b.main.files {
		if f.changed {
			n++
		}
	}
	return n
}

func (b *bench) rows() []row {
	first, second := "first backup", "second backup (10% changed)"
	if b.cfg.repeat > 1 {
		first += fmt.Sprintf(", median of %d into new stores", b.cfg.repeat)
		second += fmt.Sprintf(", median of %d from the first's state", b.cfg.repeat)
	}
	rows := []row{
		b.compare(first+", MB/s", stepBackup1, mbps, atLeast(1.5)),
		b.compare(second+", MB/s", stepBackup2, mbps, atLeast(3)),
		b.compare("store size after both versions", stepStore, human, atMost(1)),
		b.compare("restore latest, MB/s", stepRestore, mbps, nil),
	}
	for _, f := range b.main.largeFiles() {
		name := "mount cold read " + f.rel + " (" + human(float64(f.sizeAt(2))) + ")"
		if b.cfg.repeat > 1 {
			name += fmt.Sprintf(", median of %d fresh mounts", b.cfg.repeat)
		}
		rows = append(rows, b.compare(name+", MB/s", stepReadPfx+f.rel, mbps, atLeast(3)))
	}
	rows = append(rows, b.mountVsRestore())
	rows = append(rows, b.compare(fmt.Sprintf("backup of %d small files, files/s", len(b.many.files)), stepManyBkp, num, nil))
	rows = append(rows, b.listing("ls -lR mounted, cold (source: %s), s", stepLsCold))
	rows = append(rows, b.listing("ls -lR mounted, warm (source: %s), s", stepLsWarm))
	return rows
}

type format func(float64) string

func mbps(v float64) string { return fmt.Sprintf("%.1f", v) }
func num(v float64) string  { return fmt.Sprintf("%.0f", v) }
func secs(v float64) string { return fmt.Sprintf("%.2f", v) }

// check turns a ratio into a verdict and a target description.
type check struct {
	desc string
	ok   func(ratio float64) bool
}

func atLeast(x float64) *check {
	return &check{fmt.Sprintf(">= %.1fx restic", x), func(r float64) bool { return r >= x }}
}

func atMost(x float64) *check {
	return &check{fmt.Sprintf("<= %.1fx restic", x), func(r float64) bool { return r <= x }}
}

// compare is a row of strata's figure against restic's.
func (b *bench) compare(metric, step string, f format, c *check) row {
	r := row{metric: metric}
	s, sok := b.cell(&r, 0, "strata", step, f)
	q, qok := b.cell(&r, 1, "restic", step, f)
	if sok && qok && q > 0 {
		r.ratio = ratioText(s / q)
	}
	if c != nil {
		r.target = c.desc
		r.verdict = verdict(r.ratio != "", c.ok(s/q))
	}
	return r
}

// mountVsRestore is each tool's slowest large-file mount read over its
// own restore speed; the target is strata's.
func (b *bench) mountVsRestore() row {
	r := row{metric: "mount read / own restore", target: ">= 0.9 (strata)"}
	var strataRatio float64
	for i, tool := range []string{"strata", "restic"} {
		restore, ok := b.res[tool][stepRestore]
		read := math.Inf(1)
		for _, f := range b.main.largeFiles() {
			if x, ok := b.res[tool][stepReadPfx+f.rel]; ok && x.err == nil {
				read = min(read, x.v)
			}
		}
		if !ok || restore.err != nil || restore.v == 0 || math.IsInf(read, 1) {
			r.cells[i] = "-"
			continue
		}
		r.cells[i] = fmt.Sprintf("%.3f", read/restore.v) // 0.897 must not show as 0.90 beside a FAIL
		if tool == "strata" {
			strataRatio = read / restore.v
		}
	}
	r.verdict = verdict(r.cells[0] != "-", strataRatio >= 0.9)
	return r
}

// listing compares ls -lR of the mounted many-files set with the source.
func (b *bench) listing(metric, step string) row {
	src, srcOK := b.res[sourceColumn][step]
	srcText := "n/a"
	if srcOK && src.err == nil {
		srcText = secs(src.v) + " s"
	}
	r := b.compare(fmt.Sprintf(metric, srcText), step, secs, nil)
	r.target = "<= 2x source"
	s, ok := b.res["strata"][step]
	if ok && s.err == nil && srcOK && src.err == nil && src.v > 0 {
		r.ratio += fmt.Sprintf(" (%.2fx source)", s.v/src.v)
		r.verdict = verdict(true, s.v/src.v <= 2)
	} else {
		r.verdict = verdict(false, false)
	}
	return r
}

// cell fills one tool's cell and returns its value if there is one.
func (b *bench) cell(r *row, i int, tool, step string, f format) (float64, bool) {
	x, ok := b.res[tool][step]
	switch {
	case !ok:
		r.cells[i] = "-"
	case errors.Is(x.err, errSkipped):
		r.cells[i] = "skipped"
	case x.err != nil:
		r.cells[i] = "ERROR"
	default:
		r.cells[i] = f(x.v)
		return x.v, true
	}
	return 0, false
}

// ratioText shows three decimals near 1, where two would hide a FAIL.
func ratioText(r float64) string {
	if math.Abs(r-1) < 0.05 {
		return fmt.Sprintf("%.3fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

func verdict(measured, ok bool) string {
	switch {
	case !measured:
		return "n/a"
	case ok:
		return "PASS"
	}
	return "FAIL"
}

// printErrors lists the first error of each tool's failed steps.
func (b *bench) printErrors(out io.Writer) {
	var lines []string
	for _, t := range b.tools {
		if t.setupErr != nil {
			lines = append(lines, fmt.Sprintf("  %s setup: %v", t.name(), t.setupErr))
		}
	}
	for _, tool := range []string{"strata", "restic", sourceColumn} {
		for step, r := range b.res[tool] {
			if r.err != nil && !errors.Is(r.err, errSkipped) {
				lines = append(lines, fmt.Sprintf("  %s %s: %v", tool, step, r.err))
			}
		}
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		fmt.Fprintln(out, "\nerrors:")
		fmt.Fprintln(out, strings.Join(lines, "\n"))
	}
}

// levelLine says which compression level strata's stores were made with
// when -compression chose one.
func (b *bench) levelLine(out io.Writer) {
	if b.cfg.compression != "" {
		fmt.Fprintf(out, "(strata stores made with `strata init --compression %s`)\n\n", b.cfg.compression)
	}
}
