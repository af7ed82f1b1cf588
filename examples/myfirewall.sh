#!/bin/bash
# The automation script "myfirewall" of the CentOS 6 tutorial (seed 000),
# line for line (comments reworded): reset, allow SSH first, set the
# policies, allow loopback, replies and Apache, save, list.
#
#   bin/nflab --lab /tmp/nflab-demo run examples/myfirewall.sh
iptables -F
# SSH (TCP 22) comes first,
# so a remote session survives the DROP policy below
iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
# default policies
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT
# loopback
iptables -A INPUT -i lo -j ACCEPT
# replies and related connections
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
# Apache on port 80
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
# save the rules
/sbin/service iptables save
# show what was set
iptables -L -v
