#!/bin/bash
# CentOS 6's default firewall (seed 000) seen from a PC on the LAN: SSH
# and ping get through, the web server is refused with an ICMP "host
# prohibited" (curl says "No route to host"), until a rule for port 80
# goes in before the final REJECT.
nflab host add pc
nflab wire add lan main:eth0 pc:eth0
ip link set lo up
ip addr add 192.168.0.18/24 dev eth0
ip link set eth0 up
nflab --host pc ip addr add 192.168.0.2/24 dev eth0
nflab --host pc ip link set eth0 up
systemctl start sshd
systemctl start httpd

# /etc/sysconfig/iptables as CentOS 6 installs it, loaded by the init script.
echo '*filter' > /etc/sysconfig/iptables
echo ':INPUT ACCEPT [0:0]' >> /etc/sysconfig/iptables
echo ':FORWARD ACCEPT [0:0]' >> /etc/sysconfig/iptables
echo ':OUTPUT ACCEPT [0:0]' >> /etc/sysconfig/iptables
echo '-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT' >> /etc/sysconfig/iptables
echo '-A INPUT -p icmp -j ACCEPT' >> /etc/sysconfig/iptables
echo '-A INPUT -i lo -j ACCEPT' >> /etc/sysconfig/iptables
echo '-A INPUT -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT' >> /etc/sysconfig/iptables
echo '-A INPUT -j REJECT --reject-with icmp-host-prohibited' >> /etc/sysconfig/iptables
echo '-A FORWARD -j REJECT --reject-with icmp-host-prohibited' >> /etc/sysconfig/iptables
echo 'COMMIT' >> /etc/sysconfig/iptables
service iptables start
iptables -L -n --line-numbers

# From the PC.
nflab --host pc ping -c 2 192.168.0.18
nflab --host pc nc -zv 192.168.0.18 22
nflab --host pc curl http://192.168.0.18/ || true

# The fix: port 80 before the REJECT, saved for the next boot.
iptables -I INPUT 5 -m state --state NEW -m tcp -p tcp --dport 80 -j ACCEPT
nflab --host pc curl -s -o /dev/null -w "%{http_code}\n" http://192.168.0.18/
service iptables save
iptables -L -v -n --line-numbers
