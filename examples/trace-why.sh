#!/bin/bash
# "Why was my packet dropped?", asked of the default firewall of CentOS 6
# as the CentOS tutorial (seed 000) lists it: replies and related packets,
# ICMP, loopback and new SSH connections are accepted; everything else is
# refused with an ICMP "host prohibited". A web server on this machine
# cannot be reached: `trace` shows each packet's way through the chains,
# which rule decided, and what the machine sent back.

# The server: 192.168.0.18 on eth0 (lan0, its far end, is the LAN); the
# administrator's PC is 192.168.0.2.
ip link add eth0 type veth peer name lan0
ip link set eth0 address 02:00:00:00:00:18
ip link set lo up
ip link set eth0 up
ip link set lan0 up
ip addr add 192.168.0.18/24 dev eth0
ip neigh add 192.168.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent

# CentOS 6's /etc/sysconfig/iptables, typed as commands.
iptables -P INPUT ACCEPT
iptables -P FORWARD ACCEPT
iptables -P OUTPUT ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited
iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited
iptables -L

# SSH: a new connection to port 22, accepted by rule 4. (No SSH server
# runs in the lab, so the kernel itself answers with a reset.)
trace -i eth0 -p tcp -s 192.168.0.2 -d 192.168.0.18 --sport 50022 --dport 22 --syn --mac-source 02:00:00:00:00:02 --apply

# HTTP: no rule accepts port 80, so the last rule refuses it: the browser
# gets an ICMP "host prohibited" (type 3, code 10) instead of the page.
trace -i eth0 -p tcp -s 192.168.0.2 -d 192.168.0.18 --sport 50080 --dport 80 --syn --mac-source 02:00:00:00:00:02 --apply

# Two pings. The first is accepted by rule 2 (ICMP); the second belongs
# to the connection the first one opened, and rule 1 accepts it first.
trace -i eth0 -p icmp -s 192.168.0.2 -d 192.168.0.18 --icmp-id 7 --icmp-seq 1 --len 56 --mac-source 02:00:00:00:00:02 --apply
trace -i eth0 -p icmp -s 192.168.0.2 -d 192.168.0.18 --icmp-id 7 --icmp-seq 2 --len 56 --mac-source 02:00:00:00:00:02 --apply

# The fix: accept new connections to port 80 before the REJECT rule.
iptables -I INPUT 5 -m state --state NEW -m tcp -p tcp --dport 80 -j ACCEPT
trace -i eth0 -p tcp -s 192.168.0.2 -d 192.168.0.18 --sport 50081 --dport 80 --syn --mac-source 02:00:00:00:00:02 --apply

# The counters say the same: which rule took how many packets.
iptables -nvL --line-numbers
conntrack -L
