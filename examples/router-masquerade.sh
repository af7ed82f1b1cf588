#!/bin/bash
# The two NAT lines of the Korean iproute2/iptables notes (seed 001) on a
# router: the namespaces of the notes (10.10.10.0/24) are now a LAN behind
# it, reaching the outside through its WAN side.
#
#   LAN 10.10.10.0/24 --- eth0 10.10.10.1 [router] eth1 192.168.0.10 --- 192.168.0.1 --- outside
#
# A LAN host, 10.10.10.3, opens a connection to a web server outside
# (93.184.216.34). Without forwarding the router drops it; with
# forwarding its source becomes the router's WAN address (MASQUERADE),
# connection tracking remembers the change, and the server's answer is
# translated back and forwarded to the LAN host.

# The router: eth0 faces the LAN (its far end lan0), eth1 the WAN (wan0);
# the LAN host's and the WAN gateway's MAC addresses are known.
ip link add eth0 type veth peer name lan0
ip link add eth1 type veth peer name wan0
ip link set eth0 address 02:00:00:00:00:01
ip link set eth1 address 02:00:00:00:01:01
ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip link set lan0 up
ip link set wan0 up
ip addr add 10.10.10.1/24 dev eth0
ip addr add 192.168.0.10/24 dev eth1
ip route add default via 192.168.0.1
ip neigh add 10.10.10.3 lladdr 02:00:00:00:00:03 dev eth0 nud permanent
ip neigh add 192.168.0.1 lladdr 02:00:00:00:01:02 dev eth1 nud permanent
ip route

# The notes' two rules: masquerade what leaves from the LAN, and let
# packets to the LAN through FORWARD. Then start counting from zero.
iptables -t nat -A POSTROUTING -s 10.10.10.0/24 -j MASQUERADE
iptables -t filter -A FORWARD -d 10.10.10.3/24 -j ACCEPT
iptables -t nat -S
iptables -Z
iptables -t nat -Z

# Forwarding is off, as on any fresh machine: the routing decision drops
# the LAN host's SYN, and the kernel sends no error back.
sysctl net.ipv4.ip_forward
trace -i eth0 -p tcp -s 10.10.10.3 -d 93.184.216.34 --sport 41000 --dport 80 --syn --mac-source 02:00:00:00:00:03 --apply

# Turn forwarding on and send the SYN again: FORWARD (the rule is for
# packets to the LAN; the policy accepts this one), then POSTROUTING,
# where MASQUERADE gives it the address of eth1.
sysctl -w net.ipv4.ip_forward=1
trace -i eth0 -p tcp -s 10.10.10.3 -d 93.184.216.34 --sport 41000 --dport 80 --syn --mac-source 02:00:00:00:00:03 --apply
conntrack -L

# The server answers the router's address with a SYN/ACK (a frame: 80 to
# 41000, seq 3000000000, ack 1001, window 65160, TTL 55). Connection
# tracking recognises the reply, the destination goes back to 10.10.10.3
# before FORWARD (so the notes' rule accepts it), and it leaves by eth0.
trace -i eth1 --hex 0200000001010200000001020800450000280000400037064d435db8d822c0a8000a0050a028b2d05e00000003e95012fe88058a0000 --apply
conntrack -L

# The counters: the first SYN counted nowhere; the second passed FORWARD's
# policy and the MASQUERADE rule; the reply matched the FORWARD rule and
# skipped the nat table (only a connection's first packet goes through it).
iptables -nvL FORWARD
iptables -t nat -nvL POSTROUTING
