"""Two throwaway network namespaces (client, runtime) joined by a veth pair, iptables faults inside.

Both ends live in namespaces created here, so the test interfaces are invisible to every other
process on the machine: aiortc gathers host candidates on *all* interfaces, and a veth end in
the root namespace would be picked up (and then yanked away) by unrelated WebRTC sessions
running concurrently. Addresses are test-host addresses only (10.231.X.Y/30 per run, so
concurrent runs do not collide); faults are iptables rules inside the runtime's namespace (its
own tables). UDP only: WebRTC is UDP, and HTTP (TCP) stays usable to watch ``/health``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess

_COUNTER = itertools.count()


class NetnsUnavailable(RuntimeError):
    """Namespaces cannot be used here (not root, no iproute2/iptables, or the kernel refuses)."""


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=20)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (rc={done.returncode}): {done.stderr.strip()}")
    return done


class NetNamespace:
    """``ip netns`` + veth pair; ``blackhole()``, ``loss(p)``, ``clear()`` apply iptables rules inside it."""

    def __init__(self) -> None:
        n = next(_COUNTER)
        tag = f"{os.getpid() % 100000}{n}"
        subnet = (os.getpid() * 4 + n) % 64 * 4  # a /30 inside 10.231.X.0/24
        third = (os.getpid() // 64 + n) % 250 + 1
        self.name = f"rnrel{tag}"
        self.client = f"rncli{tag}"
        self.host_if = f"rvh{tag}"[:15]
        self.ns_if = f"rvn{tag}"[:15]
        self.host_ip = f"10.231.{third}.{subnet + 1}"
        self.ns_ip = f"10.231.{third}.{subnet + 2}"
        self.created = False

    @staticmethod
    def check_available() -> None:
        """Raise NetnsUnavailable with the reason when this machine cannot run namespace tests."""
        if os.geteuid() != 0:
            raise NetnsUnavailable("network-namespace tests need root (ip netns, veth, iptables)")
        for tool in ("ip", "iptables"):
            if shutil.which(tool) is None:
                raise NetnsUnavailable(f"'{tool}' is not installed (apt-get install iproute2 iptables; .ci/setup does)")

    def create(self) -> NetNamespace:
        self.check_available()
        try:
            _run("ip", "netns", "add", self.name)
            self.created = True
            _run("ip", "netns", "add", self.client)
            _run("ip", "-n", self.client, "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _run("ip", "-n", self.client, "link", "set", self.ns_if, "netns", self.name)
            _run("ip", "-n", self.client, "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _run("ip", "-n", self.client, "link", "set", self.host_if, "up")
            _run("ip", "-n", self.client, "link", "set", "lo", "up")
            _run("ip", "-n", self.name, "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
            _run("ip", "-n", self.name, "link", "set", self.ns_if, "up")
            _run("ip", "-n", self.name, "link", "set", "lo", "up")
            self.iptables("-S")  # the nft-backed iptables works inside the namespace
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            self.destroy()
            raise NetnsUnavailable(f"cannot set up a network namespace here: {exc}") from None
        return self

    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def client_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.client]

    def iptables(self, *args: str) -> None:
        _run(*self.exec_prefix(), "iptables", *args)

    def blackhole(self) -> None:
        """Drop every UDP packet in and out of the namespace (a cut link that sends no close)."""
        self.iptables("-I", "INPUT", "-p", "udp", "-j", "DROP")
        self.iptables("-I", "OUTPUT", "-p", "udp", "-j", "DROP")

    def only_stun_out(self) -> None:
        """Let only STUN leave the runtime's namespace: a live peer whose media and data go quiet.

        RFC 7983 demultiplexing: STUN datagrams start with a byte in 0..3, DTLS/SCTP 20..63,
        SRTP/SRTCP 128..191; the u32 match reads the first UDP payload byte.
        """
        self.iptables("-I", "OUTPUT", "-p", "udp", "-m", "u32", "--u32", "0>>22&0x3C@8>>24=4:255", "-j", "DROP")

    def loss(self, probability: float) -> None:
        """Drop UDP packets at random with ``probability``, in both directions."""
        for chain in ("INPUT", "OUTPUT"):
            self.iptables("-A", chain, "-p", "udp", "-m", "statistic", "--mode", "random",
                          "--probability", str(probability), "-j", "DROP")

    def dropped_packets(self, chains: tuple[str, ...] = ("INPUT", "OUTPUT")) -> int:
        """Packets matched by the DROP rules in ``chains`` so far (iptables' own counters).

        OUTPUT is what the runtime sent (media towards the client), INPUT what it received.
        """
        total = 0
        for chain in chains:
            out = _run(*self.exec_prefix(), "iptables", "-L", chain, "-v", "-n", "-x").stdout
            for line in out.splitlines()[2:]:  # after the "Chain" and column-header lines
                fields = line.split()
                if len(fields) >= 3 and fields[2] == "DROP":
                    total += int(fields[0])
        return total

    def clear(self) -> None:
        self.iptables("-F", "INPUT")
        self.iptables("-F", "OUTPUT")

    def netem_delay(self, ms: int) -> None:
        """Add delay with netem (loading sch_netem first if possible); NetnsUnavailable if the kernel has none."""
        if shutil.which("modprobe"):
            _run("modprobe", "sch_netem", check=False)
        done = _run(*self.exec_prefix(), "tc", "qdisc", "add", "dev", self.ns_if, "root", "netem",
                    "delay", f"{ms}ms", check=False)
        if done.returncode != 0:
            raise NetnsUnavailable(f"this kernel has no netem qdisc (modprobe sch_netem, then tc said: "
                                   f"{done.stderr.strip()})")

    def destroy(self) -> None:
        if self.created:
            _run("ip", "netns", "del", self.name, check=False)
            _run("ip", "netns", "del", self.client, check=False)
            self.created = False
