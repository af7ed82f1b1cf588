#!/bin/bash
# A CentOS server that only lets SSH in, built without locking yourself out
# (the walkthrough of the Korean CentOS 6 iptables tutorial, seed 000), then
# saved to /etc/sysconfig/iptables and reloaded by the iptables service.
#
#   rm -rf /tmp/nflab-demo && bin/nflab --lab /tmp/nflab-demo run examples/centos-ssh-server.sh
#
# Every line is also a valid bash line: on a CentOS machine with
# iptables-services this script prints the same (dates aside).

# Start from an empty filter table, whatever the lab held before.
iptables -F
iptables -X
iptables -P INPUT ACCEPT
iptables -P FORWARD ACCEPT
iptables -P OUTPUT ACCEPT

# The rules a fresh CentOS install comes with: replies, ping, loopback and
# new SSH connections are accepted, everything else is refused.
iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited
iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited
iptables -L

# Over SSH, a DROP policy set too early cuts your own session: keep the
# policy at ACCEPT while the rules are rebuilt, and drop everything last.
iptables -P INPUT ACCEPT
iptables -F
iptables -L

# Loopback, replies to our own connections, and SSH.
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT

# Only now close the doors; this server routes nothing.
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT
iptables -L -v
iptables -nL --line-numbers

# Keep the rules across reboots.
service iptables save
cat /etc/sysconfig/iptables

# Stopping the service opens everything up; starting it loads the saved rules.
service iptables stop
iptables -L
service iptables start
service iptables status
