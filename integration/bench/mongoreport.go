package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// mongoRow compares a strata figure with the peer's; keys are "step.metric".
type mongoRow struct {
	metric           string
	strataKey, peerK string
	f                format
}

// report prints the MongoDB table, then failed steps and peak memory.
func (m *mongoBench) report(out io.Writer) {
	fmt.Fprintf(out, "\nMongoDB (FerretDB): strata vs %s; %s.%s, %d documents (~%s); second backup after updating %d%%\n\n",
		mongoPeerLabel, mongoDB, mongoColl, m.spec.Count, human(float64(m.spec.Count*mongoDocBytes)), mongoChangePct)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tstrata\tpeer\tstrata/peer")
	for _, r := range m.rows() {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	w.Flush()
	m.printNotes(out)
}

func (m *mongoBench) rows() [][]string {
	rows := []mongoRow{
		{"backup, documents/s", "backup1.docs", "dump.docs", num},
		{"backup, MB/s", "backup1.mbs", "dump.mbs", mbps},
		{"restore, documents/s", "restore.docs", "load.docs", num},
		{"restore, MB/s", "restore.mbs", "load.mbs", mbps},
		{"second backup (5% updated), MB/s (peer: a full dump again)", "backup2.mbs", "dump.mbs", mbps},
		{"store after first backup (peer: the .bson)", "backup1.store", "dump.store", human},
	}
	var out [][]string
	for _, r := range rows {
		s, sok := m.cell(r.strataKey, r.f)
		p, pok := m.cell(r.peerK, r.f)
		ratio := ""
		if sok == nil && pok == nil && m.figs[r.peerK] > 0 {
			ratio = ratioText(m.figs[r.strataKey] / m.figs[r.peerK])
		}
		out = append(out, []string{r.metric, s, p, ratio})
	}
	return append(out, m.addedRow())
}

// addedRow is what the second backup added to the store as a share of the
// first version's; a second dump costs the peer a whole .bson again.
func (m *mongoBench) addedRow() []string {
	r := []string{"second backup adds to the store, % of first", "", "100% (a new .bson)", ""}
	var err error
	if r[1], err = m.cell("backup2.added", human); err == nil {
		first := m.figs["backup1.added"]
		pct := 100 * m.figs["backup2.added"] / first
		r[1] = fmt.Sprintf("%.1f%% (%s)", pct, r[1])
		r[3] = ratioText(pct / 100)
	}
	return r
}

// cell formats a figure, or says why there is none.
func (m *mongoBench) cell(key string, f format) (string, error) {
	if v, ok := m.figs[key]; ok {
		return f(v), nil
	}
	step, _, _ := strings.Cut(key, ".")
	err, ran := m.errs[step]
	switch {
	case !ran:
		return "-", errors.New("not run")
	case errors.Is(err, errSkipped):
		return "skipped", err
	case err != nil:
		return "ERROR", err
	}
	return "-", errors.New("no figure")
}

// printNotes lists failed steps and each step's peak memory in use.
func (m *mongoBench) printNotes(out io.Writer) {
	var errs, mem []string
	for _, s := range m.steps {
		if err := m.errs[s]; err != nil && !errors.Is(err, errSkipped) {
			errs = append(errs, fmt.Sprintf("  mongo %s: %v", s, err))
		}
		if v, ok := m.mem[s]; ok {
			mem = append(mem, fmt.Sprintf("%s %s", s, human(float64(v))))
		}
	}
	fmt.Fprintf(out, "\npeak memory in use on the machine (FerretDB sorts in memory): %s\n", strings.Join(mem, ", "))
	if len(errs) > 0 {
		fmt.Fprintln(out, "\nerrors:")
		fmt.Fprintln(out, strings.Join(errs, "\n"))
	}
}
