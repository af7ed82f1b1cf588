#!/bin/bash
# The other services of the CentOS 6 tutorial (seed 000) on top of the
# SSH-only server: DNS, web, MySQL, passive FTP, mail, ping, NTP; the scan
# and flood drops; replacing a rule by its number; and the listings the
# tutorial reads them with.
iptables -F
iptables -X
iptables -P INPUT ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
iptables -P INPUT DROP
iptables -P FORWARD DROP
iptables -P OUTPUT ACCEPT

# Name server, web server (http, https), MySQL.
iptables -A INPUT -p tcp --dport 53 -j ACCEPT
iptables -A INPUT -p udp --dport 53 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
iptables -A INPUT -p tcp --dport 3306 -j ACCEPT
iptables -nL
iptables -nL --line-numbers
iptables -L -v

# Passive FTP: the control port and the high ports, both ways.
iptables -A INPUT -p tcp --dport 21 -j ACCEPT
iptables -A OUTPUT -p tcp --sport 21 -j ACCEPT
iptables -A INPUT -p tcp --dport 1024:65535 -j ACCEPT
iptables -A OUTPUT -p tcp --sport 1024:65535 -j ACCEPT

# Mail: SMTP, SMTPS, POP3, POP3S, IMAP, IMAPS.
iptables -A INPUT -p tcp -m tcp --dport 25 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 465 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 110 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 995 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 143 -j ACCEPT
iptables -A INPUT -p tcp -m tcp --dport 993 -j ACCEPT

# Ping in, pong out; NTP.
iptables -A INPUT -p icmp --icmp-type echo-request -j ACCEPT
iptables -A OUTPUT -p icmp --icmp-type echo-reply -j ACCEPT
iptables -A INPUT -p udp --dport 123 -j ACCEPT

# NULL scans, new connections that do not start with SYN, XMAS scans.
iptables -A INPUT -p tcp --tcp-flags ALL NONE -j DROP
iptables -A INPUT -p tcp ! --syn -m state --state NEW -j DROP
iptables -A INPUT -p tcp --tcp-flags ALL ALL -j DROP

# Move SSH to port 2222: rule 3 is replaced in place.
iptables -nL --line-numbers
iptables -R INPUT 3 -p tcp --dport 2222 -j ACCEPT

# Trusted interfaces, hosts and networks; a MAC address; a port range.
iptables -A INPUT -i eth0 -j ACCEPT
iptables -A INPUT -s 192.168.0.3 -j ACCEPT
iptables -A INPUT -s 192.168.0.0/24 -j ACCEPT
iptables -A INPUT -s 192.168.0.0/255.255.255.0 -j ACCEPT
iptables -A INPUT -s 192.168.0.3 -m mac --mac-source 00:50:80:FD:E6:32 -j ACCEPT
iptables -A INPUT -p tcp --dport 6881:6890 -j ACCEPT
iptables -L
iptables -S
service iptables save
