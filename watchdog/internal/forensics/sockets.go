package forensics

import "net/netip"

// unmapped returns ap with an IPv4-mapped IPv6 address turned into IPv4.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// peerOf finds the socket at the other end of connection s.
func peerOf(s Socket, tcp []Socket) (Socket, bool) {
	if !s.Remote.IsValid() {
		return Socket{}, false
	}
	for _, o := range tcp {
		if o.Inode != 0 && o.Inode != s.Inode && unmapped(o.Local) == unmapped(s.Remote) && unmapped(o.Remote) == unmapped(s.Local) {
			return o, true
		}
	}
	return Socket{}, false
}

// listenerFor finds the local listener connection s goes to.
func listenerFor(s Socket, tcp []Socket) (Socket, bool) {
	if !s.Remote.IsValid() {
		return Socket{}, false
	}
	for _, o := range tcp {
		if o.State == "LISTEN" && o.Inode != 0 && connectsTo(s, o) {
			return o, true
		}
	}
	return Socket{}, false
}

// accepted reports whether connection s is the server side of a
// connection accepted by one of the listeners.
func accepted(s Socket, tcp []Socket) bool {
	for _, l := range tcp {
		if l.State == "LISTEN" && l.Local.Port() == s.Local.Port() &&
			(l.Local.Addr().Unmap().IsUnspecified() || l.Local.Addr().Unmap() == s.Local.Addr().Unmap()) {
			return true
		}
	}
	return false
}
