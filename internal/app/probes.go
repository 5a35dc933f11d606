package app

import (
	"net"
	"net/http"
	"strconv"

	"github.com/hypergate/hypergate/internal/calllog"
	"github.com/hypergate/hypergate/internal/probe"
)

// newProbes builds the probe scheduler. Probes call the data plane over
// loopback once it listens; their records reach the call log through
// the scheduler, which marks them synthetic (see recordCall).
func (a *App) newProbes() *probe.Scheduler {
	return probe.New(probe.Options{
		Base:       func() string { return "http://" + loopback(a.dataLn.Addr()) },
		Recorder:   recordFunc(func(r calllog.Record) { a.rec.Record(r) }),
		Client:     &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Registerer: a.metrics.Registry,
		Logger:     a.log,
	})
}

// recordCall is the gateway's recorder: a probe's call goes to its probe,
// to be completed with the run's result, every other to the call log.
func (a *App) recordCall(r calllog.Record) {
	if a.probes != nil && a.probes.Claim(r) {
		return
	}
	a.rec.Record(r)
}

// loopback is the address to reach a listener from this host: the
// loopback address when it listens on every interface.
func loopback(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
