#!/bin/bash
# The SSH-only server of the Japanese tutorial (seed 002), checked with an
# nmap scan from another host, as the tutorial does (`nmap -P0 -sS -F`):
# only port 22 answers; every other port is filtered. Then the same
# server seen by a connect scan, a UDP scan and a ping scan, and with a
# web server added.
nflab host add scanner
nflab wire add lan main:eth0 scanner:eth0
ip link set lo up
ip addr add 192.168.1.1/24 dev eth0
ip link set eth0 up
nflab --host scanner ip addr add 192.168.1.20/24 dev eth0
nflab --host scanner ip link set eth0 up
systemctl start sshd
systemctl start httpd

# The tutorial's rules: policies first, then SSH only.
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT
iptables -F
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -L

# The scan of the tutorial, from the other host.
nflab --host scanner nmap -P0 -sS -F 192.168.1.1
nflab --host scanner nmap -Pn -sT -p 22,25,80,443 192.168.1.1
nflab --host scanner nmap -Pn -sU -p 53,123 192.168.1.1
nflab --host scanner nmap -sn 192.168.1.1

# A web server too: 80 open; REJECT instead of the DROP policy turns
# "filtered" into "closed" for TCP.
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -A INPUT -p tcp -j REJECT --reject-with tcp-reset
nflab --host scanner nmap -Pn -sS -p 21-25,80,443 192.168.1.1
iptables -L -v -n
