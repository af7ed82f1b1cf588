#!/bin/bash
# The packets of the Japanese VPC tutorial (seed 004). Server 1
# (10.1.51.165, subnet 10.1.51.0/24) and server 2 (10.1.77.146, subnet
# 10.1.77.0/24) sit in one VPC, 10.1.0.0/16. Server 2's pings reach
# server 1 through the VPC router, 10.1.51.1, whose MAC address
# (0a:a2:e8:49:27:a3) is the source of every frame server 1 receives.
# Server 1 logs the pings with the prefix "[INPUT]", then drops them, then
# refuses server 2's SSH with REJECT and logs the ICMP "port unreachable"
# it answers with "[OUTPUT] ". The times of /var/log/messages are the
# tutorial's when the lab boots at Sat Sep 2 08:57:57 UTC 2017:
#   NFLAB_EPOCH=1504342677 nflab --lab /tmp/vpc run examples/vpc-log-drop-reject.sh

# Server 1's network: eth0 with the MAC address of the tutorial's log
# lines (its far end, vpc0, stands for the VPC), and the route to the
# rest of the VPC through its router.
ip link add eth0 type veth peer name vpc0
ip link set eth0 address 0a:11:d1:09:77:ce
ip link set lo up
ip link set eth0 up
ip link set vpc0 up
ip addr add 10.1.51.165/24 dev eth0
ip route add default via 10.1.51.1
ip neigh add 10.1.51.1 lladdr 0a:a2:e8:49:27:a3 dev eth0 nud permanent
ip -4 addr show dev eth0
ip route

# iptables.service is running: it loaded the saved rules (none yet).
iptables -P INPUT ACCEPT
service iptables save
systemctl start iptables

# Log the ICMP packets of server 2. A minute later it pings server 1
# three times, a second apart (ping's 56 bytes of data: LEN=84); the pings
# are logged and answered.
iptables -A INPUT -s 10.1.77.146 -p icmp -j LOG --log-prefix "[INPUT]"
sleep 60
trace -i eth0 -p icmp -s 10.1.77.146 -d 10.1.51.165 --mac-source 0a:a2:e8:49:27:a3 --id 10084 --icmp-id 1496 --icmp-seq 1 --len 56 --apply
sleep 1
trace -i eth0 -p icmp -s 10.1.77.146 -d 10.1.51.165 --mac-source 0a:a2:e8:49:27:a3 --id 10928 --icmp-id 1496 --icmp-seq 2 --len 56 --apply
sleep 1
trace -i eth0 -p icmp -s 10.1.77.146 -d 10.1.51.165 --mac-source 0a:a2:e8:49:27:a3 --id 11195 --icmp-id 1496 --icmp-seq 3 --len 56 --apply
dmesg

# Now drop them. The LOG rule comes first, so a dropped ping is still
# logged; no answer goes back.
iptables -A INPUT -s 10.1.77.146 -p icmp -j DROP
sleep 1
trace -i eth0 -p icmp -s 10.1.77.146 -d 10.1.51.165 --mac-source 0a:a2:e8:49:27:a3 --id 11431 --icmp-id 1497 --icmp-seq 1 --len 56 --apply
iptables -L -v

# Refuse SSH from server 2 with REJECT (an ICMP port unreachable, type 3
# code 3), and log the ICMP packets server 1 sends.
iptables -A INPUT -s 10.1.77.146 -p tcp --dport 22 -j REJECT
iptables -A OUTPUT -p icmp -j LOG --log-prefix "[OUTPUT] "

# At 09:31:43 server 2 runs ssh: the SYN of the tutorial's log line, as a
# frame (60 bytes: port 55724, window 26883, options MSS 8961, SACK,
# timestamps, window scale 7). ssh says "Connection refused".
sleep 1963
trace -i eth0 --hex 0a11d10977ce0aa2e84927a308004500003c9c6540004006091e0a014d920a0133a5d9ac0016bb40e64d00000000a00269034f1b0000020423010402080a00bc614e0000000001030307 --apply

# What the kernel logged, and the same lines in /var/log/messages.
dmesg
cat /var/log/messages

# The counters, and the rules as saved.
iptables -nvL
iptables-save -c
