#!/bin/bash
# Two network namespaces joined by a veth pair (seed 001, iproute2 notes):
# LEMON pings APPLE while tcpdump watches APPLE's end; nsenter enters
# LEMON; then both namespaces go out to the Internet through the host,
# which MASQUERADEs them behind its own address.

# The tutorial's commands, as written.
ip link add lemon_eth0 type veth peer name apple_eth0
ip netns
ip netns add LEMON
ip netns add APPLE
ip link set lemon_eth0 netns LEMON
ip link set apple_eth0 netns APPLE
ip netns exec LEMON ip link set lemon_eth0 up
ip netns exec APPLE ip link set apple_eth0 up
ip netns exec LEMON ip addr add 10.10.10.2/24 dev lemon_eth0
ip netns exec APPLE ip addr add 10.10.10.3/24 dev apple_eth0

# tcpdump in APPLE (the tutorial's second terminal) sees LEMON's pings.
ip netns exec APPLE tcpdump -l -i apple_eth0 &
ip netns exec LEMON ping -c 3 10.10.10.3
kill %1

# A shell in LEMON: ping, then the neighbour it learned.
nsenter --net=/var/run/netns/LEMON
ping -c 1 10.10.10.3
ip neighbor
exit
ip netns

# Out to the Internet: the host (this lab's first host) becomes their
# router on a bridge, 10.10.10.1, and its eth0 is wired to a second lab
# host standing for the Internet (203.0.113.254).
nflab host add internet
nflab wire add uplink main:eth0 internet:eth0
nflab --host internet ip addr add 203.0.113.254/24 dev eth0
nflab --host internet ip link set eth0 up
ip addr add 203.0.113.1/24 dev eth0
ip link set eth0 up
ip link add br0 type bridge
ip addr add 10.10.10.1/24 dev br0
ip link set br0 up
ip link add lemon_br type veth peer name lemon_eth1 netns LEMON
ip link add apple_br type veth peer name apple_eth1 netns APPLE
ip link set lemon_br master br0
ip link set apple_br master br0
ip link set lemon_br up
ip link set apple_br up
ip netns exec LEMON ip link set lemon_eth0 down
ip netns exec APPLE ip link set apple_eth0 down
ip netns exec LEMON ip addr add 10.10.10.2/24 dev lemon_eth1
ip netns exec APPLE ip addr add 10.10.10.3/24 dev apple_eth1
ip netns exec LEMON ip link set lemon_eth1 up
ip netns exec APPLE ip link set apple_eth1 up
ip netns exec LEMON ip route add default via 10.10.10.1
ip netns exec APPLE ip route add default via 10.10.10.1
sysctl -w net.ipv4.ip_forward=1

# The tutorial's rules.
iptables -t nat -A POSTROUTING -s 10.10.10.0/24 -j MASQUERADE
iptables -t filter -A FORWARD -d 10.10.10.3/24 -j ACCEPT
iptables -t nat -S

# The Internet sees the host's address.
nflab --host internet tcpdump -n -i eth0 icmp &
ip netns exec LEMON ping -c 1 203.0.113.254
ip netns exec APPLE ping -c 1 203.0.113.254
nflab --host internet kill %1
conntrack -L
iptables -t nat -L POSTROUTING -v -n

# Deleting the namespaces deletes their interfaces.
ip netns del LEMON
ip netns del APPLE
ip link
