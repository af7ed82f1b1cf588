#!/bin/bash
# The CentOS tutorial's (seed 000) drops against reconnaissance, probed
# with nmap from another host: NULL packets (no flag), XMAS packets (every
# flag) and NEW connections that do not start with SYN (what its "syn-flood"
# rule drops). Before the rules, the kernel answers those probes with
# resets, so nmap learns which ports are closed; after them, the NULL and
# ACK scans learn nothing. nmap's "XMAS" sets FIN, PSH and URG, not every
# flag, and conntrack calls such a packet INVALID, not NEW: the XMAS and
# FIN scans still find the closed port.
nflab host add scanner
nflab wire add lan main:eth0 scanner:eth0
ip link set lo up
ip addr add 192.168.0.18/24 dev eth0
ip link set eth0 up
nflab --host scanner ip addr add 192.168.0.66/24 dev eth0
nflab --host scanner ip link set eth0 up
systemctl start sshd
systemctl start httpd

# The web server's rules, without the probe drops yet.
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
nflab --host scanner nmap -Pn -sN -p 22,80,8080 192.168.0.18
nflab --host scanner nmap -Pn -sA -p 22,80,8080 192.168.0.18

# The tutorial's three rules, put first, and its kernel settings.
iptables -I INPUT 1 -p tcp --tcp-flags ALL NONE -j DROP
iptables -I INPUT 2 -p tcp ! --syn -m state --state NEW -j DROP
iptables -I INPUT 3 -p tcp --tcp-flags ALL ALL -j DROP
sysctl -w net.ipv4.tcp_syncookies=1
sysctl -w net.ipv4.conf.all.rp_filter=1
sysctl -w net.ipv4.conf.default.rp_filter=1
sysctl -w net.ipv4.tcp_max_syn_backlog=8192

nflab --host scanner nmap -Pn -sN -p 22,80,8080 192.168.0.18
nflab --host scanner nmap -Pn -sX -p 22,80,8080 192.168.0.18
nflab --host scanner nmap -Pn -sF -p 22,80,8080 192.168.0.18
nflab --host scanner nmap -Pn -sA -p 22,80,8080 192.168.0.18
# A SYN scan still sees the services.
nflab --host scanner nmap -Pn -sS -p 22,80,8080 192.168.0.18
iptables -L INPUT -v -n --line-numbers
