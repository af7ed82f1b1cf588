#!/bin/bash
# FTP through iptables (the Korean tutorial, seed 003; server 192.168.0.18,
# CentOS 7): a server that drops everything but management traffic, then the
# FTP control port, the active-mode data port, a fixed passive port range, and
# finally the conntrack way, RELATED for the data connections.
#
# The tutorial loads nf_conntrack_ftp with modprobe first; nflab has no
# modprobe yet, so that step is left out (it prints nothing).

# The starting point: SSH from the admin PC, everything from the router and
# one DNS server, nothing else.
iptables -A INPUT -s 192.168.0.2 -d 192.168.0.18 -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -s 192.168.0.1 -d 192.168.0.18 -j ACCEPT
iptables -A INPUT -s 8.8.8.8 -d 192.168.0.18 -j ACCEPT
iptables -A INPUT -s 0.0.0.0/0 -d 192.168.0.18 -j DROP
iptables -nL

# 1. The control connection: without 21/tcp the login itself times out.
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 21 -j ACCEPT
iptables -nL

# 2. Active mode: the data connection comes from the server's port 20.
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 20 -j ACCEPT
iptables -nL

# 3. Passive mode with vsftpd held to ports 10090-10100 (pasv_min_port and
#    pasv_max_port in vsftpd.conf).
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 10090:10100 -j ACCEPT
iptables -nL --line-numbers

# 4. The conntrack way: take those three rules out again and let the FTP
#    helper mark the data connections RELATED.
iptables -D INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 10090:10100 -j ACCEPT
iptables -D INPUT 1
iptables -D INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 21 -j ACCEPT
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 21 -j ACCEPT
iptables -I INPUT -m state -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 1024:65534 --state ESTABLISHED,RELATED -j ACCEPT
iptables -nL
iptables -S INPUT
