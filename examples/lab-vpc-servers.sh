#!/bin/bash
# Two servers in one VPC (seed 004, CentOS 7): server 1 (10.1.51.165) logs
# the pings of server 2 (10.1.77.146) to /var/log/messages, then drops
# them; then it REJECTs server 2's SSH, and the ICMP type 3 it sends back
# is logged in OUTPUT. Each server is a lab host with its own files, log
# and /etc/sysconfig/iptables; the VPC is a wire between their eth0.
nflab host add server1 server2
nflab wire add vpc server1:eth0 server2:eth0
nflab --host server1 ip addr add 10.1.51.165/16 dev eth0
nflab --host server1 ip link set eth0 up
nflab --host server2 ip addr add 10.1.77.146/16 dev eth0
nflab --host server2 ip link set eth0 up
nflab --host server1 systemctl start sshd

# Server 1: iptables.service enabled and started with the empty rules saved.
nflab --host server1 iptables -P INPUT ACCEPT
nflab --host server1 service iptables save
nflab --host server1 systemctl enable iptables
nflab --host server1 systemctl start iptables

# Server 2's pings are logged on server 1.
nflab --host server1 iptables -A INPUT -s 10.1.77.146 -p icmp -j LOG --log-prefix "[INPUT]"
nflab --host server2 ping -c 3 10.1.51.165
nflab --host server1 cat /var/log/messages

# Dropped: server 2 gets no answer.
nflab --host server1 iptables -A INPUT -s 10.1.77.146 -p icmp -j DROP
nflab --host server2 ping -c 3 10.1.51.165 || true
nflab --host server1 iptables -L -v

# SSH rejected; the port unreachable server 1 sends back is logged in OUTPUT.
nflab --host server1 iptables -A INPUT -s 10.1.77.146 -p tcp --dport 22 -j REJECT
nflab --host server1 iptables -A OUTPUT -p icmp -j LOG --log-prefix "[OUTPUT] "
nflab --host server2 ssh -i .ssh/key.pem user@10.1.51.165 || true
nflab --host server1 dmesg

# Saved for the next boot.
nflab --host server1 service iptables save
nflab --host server1 cat /etc/sysconfig/iptables
