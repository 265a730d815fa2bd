package daemon

import (
	"github.com/stratabackup/strata/daemon/joblog"
)

// alert records an alert in the job log, counts it and hands it to the
// webhooks; it never blocks on a webhook.
func (d *Daemon) alert(a joblog.Alert) {
	if err := d.jl.PutAlert(&a); err != nil {
		d.log.Error("job log: alert not recorded", "err", err, "alert", a.Message)
	}
	d.log.Info("alert", "class", a.Class, "message", a.Message)
	d.met.alerted(a.Class)
	d.hooks.Send(a.Class, a)
}

// Alerts lists alerts, newest first; class filters when not empty.
func (d *Daemon) Alerts(class string) ([]joblog.Alert, error) {
	all, err := d.jl.Alerts()
	if err != nil {
		return nil, err
	}
	out := []joblog.Alert{}
	for i := len(all) - 1; i >= 0; i-- {
		if class == "" || all[i].Class == class {
			out = append(out, all[i])
		}
	}
	return out, nil
}
