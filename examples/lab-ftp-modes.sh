#!/bin/bash
# FTP through iptables (seed 003, CentOS 7): why the directory listing
# times out, and the two fixes. The server (192.168.0.18) runs vsftpd; the
# PC (192.168.0.2) runs FileZilla, here `filezilla`, which logs as
# FileZilla does.
nflab host add pc
nflab wire add lan main:eth0 pc:eth0
ip link set lo up
ip addr add 192.168.0.18/24 dev eth0
ip link set eth0 up
nflab --host pc ip addr add 192.168.0.2/24 dev eth0
nflab --host pc ip link set eth0 up
systemctl start vsftpd
echo "hello" > /home/test/readme.txt

# The starting firewall: SSH from the PC, everything else to the server dropped.
iptables -A INPUT -s 192.168.0.2 -d 192.168.0.18 -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -s 192.168.0.1 -d 192.168.0.18 -j ACCEPT
iptables -A INPUT -s 8.8.8.8 -d 192.168.0.18 -j ACCEPT
iptables -A INPUT -d 192.168.0.18 -j DROP
iptables -nL INPUT

# 1. The control connection cannot even open.
nflab --host pc filezilla --retries 1 ftp://test:test@192.168.0.18/ || true

# 2. Port 21 open: the login works, the passive listing times out.
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 21 -j ACCEPT
nflab --host pc filezilla --retries 0 ftp://test:test@192.168.0.18/ || true

# 3. Active mode: the server connects back from port 20; the rule for 20
#    lets the PC's answers in.
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 20 -j ACCEPT
nflab --host pc filezilla --active ftp://test:test@192.168.0.18/

# 4. Fix one: a fixed passive port range in vsftpd, opened in the firewall.
echo "pasv_enable=YES" >> /etc/vsftpd/vsftpd.conf
echo "pasv_min_port=10090" >> /etc/vsftpd/vsftpd.conf
echo "pasv_max_port=10100" >> /etc/vsftpd/vsftpd.conf
systemctl restart vsftpd
iptables -I INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 10090:10100 -j ACCEPT
nflab --host pc filezilla ftp://test:test@192.168.0.18/

# 5. Fix two: nf_conntrack_ftp and RELATED, without the port range rule.
iptables -D INPUT -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 10090:10100 -j ACCEPT
modprobe nf_conntrack_ftp
modprobe nf_conntrack_ftp ports=21
cat /sys/module/nf_conntrack_ftp/parameters/ports
lsmod
iptables -I INPUT -m state -s 0.0.0.0/0 -d 192.168.0.18 -p tcp --dport 1024:65534 --state ESTABLISHED,RELATED -j ACCEPT
# On today's kernels the module alone attaches nothing: the listing still times out...
nflab --host pc filezilla --retries 0 ftp://test:test@192.168.0.18/ || true
trace -i eth0 -p tcp -s 192.168.0.2 -d 192.168.0.18 --sport 40021 --dport 21 --syn --mac-source 52:54:00:02:00:01
# ...until a raw-table rule gives the control connection the helper.
iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
nflab --host pc filezilla ftp://test:test@192.168.0.18/
conntrack -L expect
iptables -nvL INPUT
