#!/bin/bash
# The scan drops of the CentOS 6 tutorial (seed 000), with packets. The
# tutorial's web server keeps SSH and HTTP open, then adds three rules
# against reconnaissance: NULL packets (no TCP flag), "XMAS" packets
# (every flag) and TCP packets that open a connection without SYN. Here a
# prober on the LAN (192.168.1.66) sends each kind of probe to port 80;
# `trace --apply` shows which rule takes it, and the counters add up.
# (The tutorial's sysctl settings against SYN floods are kernel settings,
# not rules; it has no rate limit rule.)

# The server: 192.168.1.10 on eth0 (lan0, its far end, is the LAN); the
# prober's MAC address is known.
ip link add eth0 type veth peer name lan0
ip link set eth0 address 02:00:00:00:00:10
ip link set lo up
ip link set eth0 up
ip link set lan0 up
ip addr add 192.168.1.10/24 dev eth0
ip neigh add 192.168.1.66 lladdr 02:00:00:00:00:66 dev eth0 nud permanent

# The rules, in the tutorial's order: loopback, replies, SSH, policy DROP,
# the web server, then the three drops at the end.
iptables -P INPUT ACCEPT
iptables -F
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
iptables -A INPUT -p tcp --tcp-flags ALL NONE -j DROP
iptables -A INPUT -p tcp ! --syn -m state --state NEW -j DROP
iptables -A INPUT -p tcp --tcp-flags ALL ALL -j DROP
iptables -nL --line-numbers

# A NULL probe to port 80: rule 4 accepts everything for port 80 before
# the drops are reached. Nothing listens on port 80 in the lab, so the
# kernel answers with a reset, and the prober learns the port's state.
trace -i eth0 -p tcp -s 192.168.1.66 -d 192.168.1.10 --sport 40001 --dport 80 --flags NONE --mac-source 02:00:00:00:00:66 --apply

# The drops must come before the rules that accept: move them to the top.
iptables -D INPUT -p tcp --tcp-flags ALL NONE -j DROP
iptables -D INPUT -p tcp ! --syn -m state --state NEW -j DROP
iptables -D INPUT -p tcp --tcp-flags ALL ALL -j DROP
iptables -I INPUT 1 -p tcp --tcp-flags ALL NONE -j DROP
iptables -I INPUT 2 -p tcp ! --syn -m state --state NEW -j DROP
iptables -I INPUT 3 -p tcp --tcp-flags ALL ALL -j DROP
iptables -nL INPUT --line-numbers

# The probes again. NULL: rule 1.
trace -i eth0 -p tcp -s 192.168.1.66 -d 192.168.1.10 --sport 40002 --dport 80 --flags NONE --mac-source 02:00:00:00:00:66 --apply
# An ACK without a connection (nmap -sA): connection tracking sees a NEW
# connection picked up in the middle, without SYN: rule 2.
trace -i eth0 -p tcp -s 192.168.1.66 -d 192.168.1.10 --sport 40003 --dport 80 --flags ACK --mac-source 02:00:00:00:00:66 --apply
# Every flag set: rule 3.
trace -i eth0 -p tcp -s 192.168.1.66 -d 192.168.1.10 --sport 40004 --dport 80 --flags FIN,SYN,RST,PSH,ACK,URG --mac-source 02:00:00:00:00:66 --apply
# nmap's own XMAS scan (-sX) sets only FIN, PSH and URG: not ALL ALL, and
# connection tracking finds it INVALID, not NEW. Rule 7 accepts it.
trace -i eth0 -p tcp -s 192.168.1.66 -d 192.168.1.10 --sport 40005 --dport 80 --flags FIN,PSH,URG --mac-source 02:00:00:00:00:66 --apply
# A real connection attempt: a SYN passes the three drops.
trace -i eth0 -p tcp -s 192.168.1.66 -d 192.168.1.10 --sport 40006 --dport 80 --syn --mac-source 02:00:00:00:00:66 --apply

# Which rule dropped how much. No connection is left: the probes were
# INVALID or dropped before their connection was confirmed, and the SYN's
# connection ended with the reset.
iptables -nvL INPUT --line-numbers
conntrack -L
