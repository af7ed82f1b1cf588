#!/bin/bash
# Locking yourself out, and not (seed 000, CentOS 6, and seed 002): an
# admin workstation (192.168.0.2) reaches the server (192.168.0.18) by
# SSH over the LAN. Setting the INPUT policy to DROP before allowing SSH
# cuts the admin off: ssh waits through the kernel's SYN retries and
# gives up after two minutes (instantly here). From the server's
# console, SSH is allowed first, then the policy closes the rest.

# The LAN: the lab's first host is the server; a second host is the admin's.
nflab host add admin
nflab wire add lan main:eth0 admin:eth0
ip link set lo up
ip addr add 192.168.0.18/24 dev eth0
ip link set eth0 up
nflab --host admin ip addr add 192.168.0.2/24 dev eth0
nflab --host admin ip link set eth0 up
systemctl start sshd
ss -lnt

# From the admin's workstation: SSH answers.
nflab --host admin nc -zv 192.168.0.18 22

# The wrong order: policy DROP first. The admin's next connection times out.
iptables -P INPUT DROP
nflab --host admin ssh root@192.168.0.18 || true
nflab --host admin ping -c 2 192.168.0.18 || true

# From the console: back to ACCEPT, then the right order.
iptables -P INPUT ACCEPT
iptables -F
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT
nflab --host admin nc -zv 192.168.0.18 22
nflab --host admin nc -zv -w 3 192.168.0.18 80 || true
iptables -L -v -n --line-numbers
