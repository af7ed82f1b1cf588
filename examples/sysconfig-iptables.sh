#!/bin/bash
# Server 1 of the Japanese VPC tutorial (seed 004), CentOS 7 with
# iptables-services: the service under systemd, ICMP from server 2 logged
# then dropped, its SSH rejected, ICMP sent out logged, and the rules saved
# to /etc/sysconfig/iptables.
#
# A fresh lab has no /etc/sysconfig/iptables, and the unit refuses to start
# without one (AssertPathExists): save the current, empty rules first.
# (`systemctl status` shows the real time of the lab; the .out file pins it.)
sudo iptables -P INPUT ACCEPT
sudo service iptables save
sudo systemctl enable iptables
sudo systemctl start iptables
sudo systemctl status iptables
sudo systemctl stop iptables
sudo iptables -L
sudo service iptables save
sudo systemctl start iptables

# Log the ICMP packets server 2 sends, then drop them.
sudo iptables -A INPUT -s 10.1.77.146 -p icmp -j LOG --log-prefix "[INPUT]"
sudo iptables -A INPUT -s 10.1.77.146 -p icmp -j DROP
sudo iptables -L -v

# Refuse SSH from server 2 (REJECT answers with ICMP type 3), and log the
# ICMP packets this server sends.
sudo iptables -A INPUT -s 10.1.77.146 -p tcp --dport 22 -j REJECT
sudo iptables -A OUTPUT -p icmp -j LOG --log-prefix "[OUTPUT] "
sudo service iptables save
sudo cat /etc/sysconfig/iptables
