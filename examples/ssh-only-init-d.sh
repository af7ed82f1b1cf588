#!/bin/bash
# The Japanese tutorial's server that only allows SSH, then common service
# ports (seed 002), run through the init script as in the old days:
# /etc/init.d/iptables stop, save and start.
#
# The tutorial finds a firewall already running: here it is the CentOS
# default rule set, saved and started by the service first.
iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited
iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited
/etc/init.d/iptables save
/etc/init.d/iptables start

# Stop the firewall before working on it, so half-made rules never apply.
/etc/init.d/iptables stop

# Everything in is dropped except what is allowed; everything out is allowed.
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT
iptables -F

# SSH only.
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -L

# Happy with it: save, and start the firewall on the saved rules.
/etc/init.d/iptables save
/etc/init.d/iptables start

# Ports often needed: http/https, smtp/pop3, dns, a proxy.
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -A INPUT -p tcp --dport 443 -j ACCEPT
iptables -A INPUT -p tcp --dport 25 -j ACCEPT
iptables -A INPUT -p tcp --dport 110 -j ACCEPT
iptables -A INPUT -p tcp --dport 53 -j ACCEPT
iptables -A INPUT -p udp --dport 53 -j ACCEPT
iptables -A INPUT -p tcp --dport 3128 -j ACCEPT
iptables -L
/etc/init.d/iptables save
/etc/init.d/iptables status
