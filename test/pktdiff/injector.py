#!/usr/bin/python3
"""Frame injector and capturer for the packet-level differential suite.

Runs inside the injector namespace (``ip netns exec nflabt-inj-ID``), where
the peers of the machine under test's interfaces live.  Standard library only.

Usage: injector.py PEER=DUTIF... --barrier=SEND,RECV [--lock=PATH] [--cpu=N]

  PEER=DUTIF   a local interface and the name of its peer on the machine
               under test, e.g. p0=eth0 (frames to inject "on eth0" are sent
               on p0; frames received on p0 came out of eth0).
  --barrier    two local interfaces forming a veth pair that only carries the
               barrier frames (see wait_until_processed).
  --lock       a file locked (flock) while frames are sent, so that several
               runs on one machine never mix their kernel log lines.
  --cpu        the CPU this process runs on; defaults to the lowest allowed.
  --no-tx-csum=NETNS:IF,...
               interfaces of the named network namespace (as in `ip netns`)
               whose transmit checksum offload is switched off before
               anything else (see disable_tx_checksum).

Protocol: one JSON object per line on stdin, one answer per line on stdout.
It greets with {"ready": true, "cpu": N} as soon as it runs; the interfaces
need to exist only when the first run starts.

  {"op": "run", "frames": [{"iface": "eth0", "hex": "...", "gapMs": 0}, ...]}
      -> {"ok": true, "t0Ns": N, "sentAtNs": [...], "emitted": [...],
          "log": [...], "logLost": 0}
      or {"ok": false, "error": "..."}
  {"op": "quit"} -> the process exits (so does the end of its input).

A frame with gapMs is sent that many milliseconds after the previous one
(reactions arriving meanwhile are collected); otherwise as soon as the
previous one has been processed (see Injector.wait_until_processed).

``emitted`` holds every frame received on a peer interface (outgoing copies
are ignored), as {"iface": DUTIF, "hex": ..., "afterFrame": I, "atNs": T}:
I is the index of the last frame sent before it arrived.  Times are
CLOCK_MONOTONIC nanoseconds, a frame's time being the middle of its send() call
(the machine processes it inside the call); t0Ns is the time of the first frame and the
other times are relative to it.  ``log`` holds the kernel log lines written
while the frames were processed, message text only; logLost counts records
overwritten in the kernel's ring buffer before they could be read.
"""

import ctypes
import fcntl
import json
import os
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17

# EtherType of barrier frames (IEEE "local experimental"); nothing answers it.
BARRIER_ETHERTYPE = b"\x88\xb5"
# How long one barrier may take before the run is declared broken.
BARRIER_TIMEOUT_S = 2.0


def open_packet_socket(ifname):
    """A raw AF_PACKET socket bound to one interface, seeing every protocol."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        pass  # older kernels: outgoing copies are filtered by packet type below
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    return s


CLONE_NEWNET = 0x40000000


def socket_in_netns(netns):
    """A datagram socket of another network namespace (for ioctls there).

    The thread enters the namespace just long enough to create the socket,
    which stays bound to it, and returns to its own.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + netns, os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + netns)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


def disable_tx_checksum(sock, ifname):
    """Switches off transmit checksum offload (like `ethtool -K IF tx off`).

    A veth device accepts packets whose checksum is still to be filled in
    (CHECKSUM_PARTIAL, e.g. the RST of the REJECT target) and hands them to
    its peer as they are, so a capture would see an unfinished checksum.
    Without the offload the kernel completes the checksum in software before
    the packet leaves, as it does for a network card without the feature.
    `sock` is any socket of the interface's network namespace.
    """
    value = ctypes.create_string_buffer(ETHTOOL_STXCSUM.to_bytes(4, sys.byteorder) + bytes(4))
    name = ifname.encode()
    ifreq = bytearray(40)
    ifreq[: len(name)] = name
    ifreq[16:24] = ctypes.addressof(value).to_bytes(8, sys.byteorder)
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, bytes(ifreq))


def drain(sock):
    """Every incoming frame queued on a socket, oldest first."""
    frames = []
    while True:
        try:
            data, addr = sock.recvfrom(65536)
        except BlockingIOError:
            return frames
        if addr[2] != PACKET_OUTGOING:
            frames.append(data)


class KernelLog:
    """Reads /dev/kmsg from the position it had when opened."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.lost = 0

    def read_new(self):
        """Message text of each record written since the last call."""
        lines = []
        while True:
            try:
                record = os.read(self.fd, 16384)
            except BlockingIOError:
                return lines
            except BrokenPipeError:
                # Records were overwritten before we read them.
                self.lost += 1
                continue
            lines.extend(parse_kmsg_record(record))


# Messages that only configuration activity elsewhere on the machine can
# produce (rule checks, address configuration); never the packet path.
FOREIGN_PREFIXES = ("x_tables:", "xt_", "nft_compat:", "IPv6: ADDRCONF", "audit:")


def parse_kmsg_record(record):
    """The text lines of one /dev/kmsg record, or [] for a record from elsewhere.

    A record is "PRI,SEQ,USEC,FLAGS[,...];TEXT\\n" followed by optional
    " KEY=VALUE" dictionary lines; TEXT escapes bytes outside 0x20..0x7e and
    the backslash as \\xNN.  Records with a dictionary come from device
    drivers and subsystems (link state, promiscuous mode), not from the
    packet path, and are left out, as are FOREIGN_PREFIXES.
    """
    head, _, rest = record.partition(b";")
    text, _, dictionary = rest.partition(b"\n")
    if dictionary.startswith(b" "):
        return []
    raw = unescape(text)
    message = raw.decode("utf-8", errors="replace")
    if message.startswith(FOREIGN_PREFIXES):
        return []
    return message.split("\n")


def unescape(text):
    """Undoes the \\xNN escaping of /dev/kmsg."""
    out = bytearray()
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == 0x5C and i + 3 < n and text[i + 1] == 0x78:
            try:
                out.append(int(text[i + 2 : i + 4], 16))
                i += 4
                continue
            except ValueError:
                pass
        out.append(c)
        i += 1
    return bytes(out)


class Injector:
    """Sends frames to the machine under test and collects what comes back."""

    def __init__(self, peers, barrier, lock_path, no_tx_csum):
        self.peers = peers
        self.barrier = barrier
        self.lock_path = lock_path
        self.no_tx_csum = no_tx_csum
        self.socks = None  # machine-under-test interface -> socket
        self.barrier_seq = 0

    def open(self):
        """Prepares the links (they need not exist before the first run)."""
        if self.socks is not None:
            return
        for netns, ifname in self.no_tx_csum:
            with socket_in_netns(netns) as sock:
                disable_tx_checksum(sock, ifname)
        self.socks = {remote: open_packet_socket(local) for local, remote in self.peers}
        self.barrier_tx = open_packet_socket(self.barrier[0])
        self.barrier_rx = open_packet_socket(self.barrier[1])

    def wait_until_processed(self):
        """Returns once every frame the kernel queued so far has been delivered.

        Received frames go through a per-CPU backlog queue, in order.  This
        process stays on one CPU, so a barrier frame sent now is queued after
        the last injected frame; when it arrives, that frame has been
        processed, and whatever the machine under test emitted while
        processing it is queued before a second barrier.  Two barriers thus
        cover a frame and the frames it caused, however late the kernel ran
        its receive work.
        """
        for _ in range(2):
            self.barrier_seq += 1
            payload = b"\xff" * 6 + b"\x02\x00\x00\x00\xff\x02" + BARRIER_ETHERTYPE
            payload += self.barrier_seq.to_bytes(4, "big") + bytes(42)
            self.barrier_tx.send(payload)
            deadline = time.monotonic() + BARRIER_TIMEOUT_S
            while True:
                got = False
                for frame in drain(self.barrier_rx):
                    if frame[12:14] == BARRIER_ETHERTYPE and int.from_bytes(frame[14:18], "big") == self.barrier_seq:
                        got = True
                if got:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("barrier frame did not come back")
                select.select([self.barrier_rx], [], [], left)

    def collect(self, emitted, after, t0):
        """Appends every frame queued on the peer sockets to `emitted`."""
        now = time.monotonic_ns() - t0
        for iface, sock in self.socks.items():
            for frame in drain(sock):
                emitted.append({"iface": iface, "hex": frame.hex(), "afterFrame": after, "atNs": now})

    def run(self, frames):
        self.open()
        lock_fd = None
        if self.lock_path:
            lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            return self.run_locked(frames)
        finally:
            if lock_fd is not None:
                os.close(lock_fd)  # releases the lock

    def run_locked(self, frames):
        for sock in self.socks.values():
            drain(sock)  # anything from before the run is not a reaction to it
        log = KernelLog()
        emitted = []
        sent_at = []
        t0 = None
        last = None
        for index, frame in enumerate(frames):
            iface = frame["iface"]
            if iface not in self.socks:
                raise ValueError("no interface %s" % iface)
            data = bytes.fromhex(frame["hex"])
            gap_ns = int(round(float(frame.get("gapMs", 0)) * 1e6))
            if last is not None and gap_ns > 0:
                target = last + gap_ns
                while True:
                    left = target - time.monotonic_ns()
                    if left <= 0:
                        break
                    select.select(list(self.socks.values()), [], [], left / 1e9)
                    self.collect(emitted, index - 1, t0)
            now = time.monotonic_ns()
            self.socks[iface].send(data)
            # The machine processes the frame inside send(): the middle of
            # the call is the best guess of when its hooks ran.
            at = (now + time.monotonic_ns()) // 2
            if t0 is None:
                t0 = at
            last = now
            sent_at.append(at - t0)
            self.wait_until_processed()
            self.collect(emitted, index, t0)
        lines = log.read_new()
        os.close(log.fd)
        return {
            "ok": True,
            "t0Ns": t0 if t0 is not None else time.monotonic_ns(),
            "sentAtNs": sent_at,
            "emitted": emitted,
            "log": lines,
            "logLost": log.lost,
        }


def main(argv):
    peers = []
    barrier = None
    lock_path = None
    cpu = None
    no_tx_csum = []
    for arg in argv:
        if arg.startswith("--barrier="):
            barrier = arg[len("--barrier=") :].split(",")
        elif arg.startswith("--lock="):
            lock_path = arg[len("--lock=") :]
        elif arg.startswith("--cpu="):
            cpu = int(arg[len("--cpu=") :])
        elif arg.startswith("--no-tx-csum="):
            netns, _, names = arg[len("--no-tx-csum=") :].partition(":")
            no_tx_csum = [(netns, name) for name in names.split(",")]
        elif "=" in arg:
            peers.append(tuple(arg.split("=", 1)))
        else:
            raise SystemExit("bad argument: " + arg)
    if barrier is None or len(barrier) != 2 or not peers:
        raise SystemExit(__doc__)
    if cpu is None:
        cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    injector = Injector(peers, barrier, lock_path, no_tx_csum)
    out = sys.stdout
    out.write(json.dumps({"ready": True, "cpu": cpu}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request.get("op")
        if op == "quit":
            break
        try:
            if op == "run":
                answer = injector.run(request["frames"])
            else:
                answer = {"ok": False, "error": "unknown op %r" % op}
        except Exception as e:  # reported to the caller, who fails the scenario
            answer = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
