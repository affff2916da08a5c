package forensics

// This file relates sockets: the binary that owns the port another one
// waits to connect to or to listen on.

import (
	"fmt"
	"slices"
	"strings"
)

// connectsTo reports whether TCP socket conn is a client connection (or
// attempt) to listener l.
func connectsTo(conn, l Socket) bool {
	if conn.State == "LISTEN" || !conn.Remote.IsValid() || !l.Local.IsValid() || conn.Remote.Port() != l.Local.Port() {
		return false
	}
	if conn.Local.Port() == l.Local.Port() {
		return false // the server side of an accepted connection
	}
	la := l.Local.Addr().Unmap()
	return la.IsUnspecified() || la == conn.Remote.Addr().Unmap()
}

// sockets returns the TCP sockets of every snapshot, one per inode, with
// the PIDs merged.
func (r *relater) sockets() []Socket {
	byIno := map[uint64]int{}
	var out []Socket
	for _, s := range r.snaps {
		for _, so := range s.Sockets {
			if so.Proto == "unix" {
				continue
			}
			if i, ok := byIno[so.Inode]; ok {
				out[i].PIDs = appendNew(out[i].PIDs, so.PIDs...)
				continue
			}
			byIno[so.Inode] = len(out)
			so.PIDs = slices.Clone(so.PIDs)
			out = append(out, so)
		}
	}
	return out
}

// split returns the PIDs of a socket inside and outside the stalled tree.
func (r *relater) split(pids []int) (in, out []int) {
	for _, pid := range pids {
		if r.stalledTree(pid) {
			in = append(in, pid)
		} else {
			out = append(out, pid)
		}
	}
	return in, out
}

func (r *relater) describeAll(pids []int) string {
	var ds []string
	for _, pid := range pids {
		ds = append(ds, r.describe(pid))
	}
	return strings.Join(ds, " and ")
}

// ports returns what the stalled tree's TCP sockets connect to, who
// connects to its listeners, and the fixed ports other snapshots listen on.
func (r *relater) ports() []Finding {
	all := r.sockets()
	var out []Finding
	mentioned := map[uint64]bool{}
	for _, s := range all {
		mine, _ := r.split(s.PIDs)
		if len(mine) == 0 {
			continue
		}
		if s.State == "LISTEN" {
			var clients []int
			var states []string
			for _, o := range all {
				if _, theirs := r.split(o.PIDs); len(theirs) > 0 && connectsTo(o, s) {
					clients = appendNew(clients, theirs...)
					states = appendNew(states, o.State)
				}
			}
			if len(clients) > 0 {
				out = append(out, Finding{Kind: PortClient, Port: int(s.Local.Port()),
					PIDs: append(slices.Clone(mine), clients...),
					Text: fmt.Sprintf("%s listens on %s; %s %s connected or connecting to it (%s)",
						r.describeAll(mine), s.Local, r.describeAll(clients), isAre(len(clients)), strings.Join(states, ", "))})
			}
			continue
		}
		if !s.Remote.IsValid() || accepted(s, all) {
			continue // the server side of a connection: see the listener
		}
		var server []int
		verb := "listens"
		l, haveListener := listenerFor(s, all)
		if haveListener {
			mentioned[l.Inode] = true
		}
		if peer, ok := peerOf(s, all); ok {
			_, server = r.split(peer.PIDs)
			verb = "serves it"
		}
		if len(server) == 0 && haveListener {
			_, server = r.split(l.PIDs)
			verb = "listens"
		}
		port := int(s.Remote.Port())
		switch {
		case len(server) > 0 && s.State == "SYN_SENT":
			out = append(out, Finding{Kind: PortConnect, Port: port, PIDs: append(slices.Clone(mine), server...),
				Text: fmt.Sprintf("%s is trying to connect (SYN_SENT) to %s, where %s listens without accepting", r.describeAll(mine), s.Remote, r.describeAll(server))})
		case len(server) > 0:
			out = append(out, Finding{Kind: PortConnect, Port: port, PIDs: append(slices.Clone(mine), server...),
				Text: fmt.Sprintf("%s is connected to %s (%s), where %s %s", r.describeAll(mine), s.Remote, s.State, r.describeAll(server), verb)})
		case s.State == "SYN_SENT":
			out = append(out, Finding{Kind: PortConnect, Port: port, PIDs: mine,
				Text: fmt.Sprintf("%s is trying to connect (SYN_SENT) to %s and gets no answer", r.describeAll(mine), s.Remote)})
		}
	}
	for i, snap := range r.snaps[1:] {
		lo, hi := 32768, 60999 // Linux's default ip_local_port_range
		if len(snap.EphemeralPorts) == 2 {
			lo, hi = snap.EphemeralPorts[0], snap.EphemeralPorts[1]
		}
		for _, s := range snap.Sockets {
			port := int(s.Local.Port())
			if s.State != "LISTEN" || !s.Local.IsValid() || (port >= lo && port <= hi) || mentioned[s.Inode] {
				continue
			}
			var pids []int
			for _, pid := range s.PIDs {
				if r.owner[pid] == i+1 {
					pids = append(pids, pid)
				}
			}
			if len(pids) == 0 {
				continue
			}
			mentioned[s.Inode] = true
			out = append(out, Finding{Kind: PortHeld, Port: port, PIDs: pids,
				Text: fmt.Sprintf("%s listens on %s, a fixed port (outside the ephemeral range %d-%d): a test that binds or dials port %d waits while it is held",
					r.describeAll(pids), s.Local, lo, hi, port)})
		}
	}
	return out
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// stateNames spells out proc(5) states.
var stateNames = map[string]string{
	"R": "running", "S": "sleeping", "D": "uninterruptible sleep", "Z": "zombie",
	"T": "stopped", "t": "traced", "I": "idle", "X": "dead",
}
