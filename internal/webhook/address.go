package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// Resolver finds the addresses of a host name (net.DefaultResolver does).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which endpoints deliveries may go to. By default only https URLs of
// public addresses: a subscription must not turn the service into a way to reach
// what sits behind it (its own loopback, the private network, a cloud's metadata
// service at a link-local address).
type Policy struct {
	// AllowPrivate also allows http URLs and loopback, private, link-local,
	// unique-local and shared (CGNAT) addresses: for development and tests.
	AllowPrivate bool
	// Resolver resolves host names when a URL is checked; nil: net.DefaultResolver.
	Resolver Resolver
}

// ErrAddressNotAllowed is a target address the policy refuses.
var ErrAddressNotAllowed = errors.New("the address is not one deliveries may go to")

// blocked are the networks no delivery goes to unless the policy allows private
// addresses, besides what netip classifies (loopback, private, link-local).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use IPv4/IPv6 translation
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID
	netip.MustParsePrefix("2001::/32"),       // Teredo: carries an IPv4 address of its own
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// Allowed says whether a delivery may connect to the address.
func (p Policy) Allowed(a netip.Addr) error {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, a)
	}
	if p.AllowPrivate {
		return nil
	}
	// An IPv6 address that embeds an IPv4 one (NAT64, 6to4) is judged by it too.
	if embedded, ok := embeddedIPv4(a); ok {
		if err := p.Allowed(embedded); err != nil {
			return fmt.Errorf("%w: %s", ErrAddressNotAllowed, a)
		}
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, a)
	}
	for _, n := range blocked {
		if n.Contains(a) {
			return fmt.Errorf("%w: %s", ErrAddressNotAllowed, a)
		}
	}
	return nil
}

var (
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	sixTo = netip.MustParsePrefix("2002::/16")
)

func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case !a.Is6():
		return netip.Addr{}, false
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixTo.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// resolveTimeout bounds the look-up of a subscription's host.
const resolveTimeout = 3 * time.Second

// CheckURL checks a subscription's URL: absolute, https (http only where the
// policy allows private targets), without credentials, and naming a host whose
// addresses the policy allows. A name that does not exist is refused; a look-up
// that fails otherwise (a DNS outage) is not held against the URL: every delivery
// checks the address it connects to anyway (Sender), which is what stops a name
// that resolves elsewhere later (DNS rebinding).
func (p Policy) CheckURL(ctx context.Context, raw string) []certification.Violation {
	host, vs := p.checkForm(raw)
	if len(vs) > 0 {
		return vs
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if p.Allowed(a) != nil {
			return badURL("deliveries may not go to " + a.Unmap().String() + ": a loopback, private, link-local or reserved address")
		}
		return nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return badURL(host + " does not resolve")
	case err != nil:
		return nil
	}
	for _, a := range addrs {
		if p.Allowed(a) != nil {
			return badURL(host + " resolves to " + a.Unmap().String() + ": a loopback, private, link-local or reserved address")
		}
	}
	return nil
}

// checkForm checks what a URL says by itself, and returns its host.
func (p Policy) checkForm(raw string) (string, []certification.Violation) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", badURL("not an absolute http(s) URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowPrivate:
	case u.Scheme == "http":
		return "", badURL("deliveries go to https URLs only")
	default:
		return "", badURL("deliveries go to https URLs only, not " + u.Scheme)
	}
	if u.User != nil {
		return "", badURL("a URL with credentials is not accepted: the signature authenticates deliveries")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return "", badURL("a URL with a fragment is not accepted")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", badURL("not a valid port")
		}
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, " ") {
		return "", badURL("not a valid host name")
	}
	return host, nil
}

func badURL(msg string) []certification.Violation {
	return []certification.Violation{{Field: "/url", Message: msg}}
}

// control is the dialer's check of the address a delivery connects to, after the
// host name was resolved: a name that resolved to a public address when the URL
// was checked may resolve to a private one now.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, host)
	}
	return p.Allowed(a)
}
