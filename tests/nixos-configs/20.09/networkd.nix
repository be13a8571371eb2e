# systemd-networkd networking: bridges, VLANs, bonds, wireguard, NAT, a
# custom firewall, dnsmasq and chrony.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking = {
    hostName = "router";
    useNetworkd = true;
    useDHCP = false;
    vlans.vlan10 = { id = 10; interface = "enp1s0"; };
    bridges.br0.interfaces = [ "enp2s0" "enp3s0" ];
    bonds.bond0 = { interfaces = [ "enp4s0" "enp5s0" ]; driverOptions.mode = "active-backup"; };
    interfaces.br0.ipv4.addresses = [ { address = "10.1.0.1"; prefixLength = 24; } ];
    interfaces.vlan10.ipv4.addresses = [ { address = "10.10.0.1"; prefixLength = 24; } ];
    interfaces.enp1s0.useDHCP = true;
    nat = { enable = true; externalInterface = "enp1s0"; internalIPs = [ "10.1.0.0/24" ]; };
    firewall = {
      trustedInterfaces = [ "br0" ];
      extraCommands = "iptables -A INPUT -p icmp -j ACCEPT";
      allowedUDPPorts = [ 51820 53 ];
    };
    wireguard.interfaces.wg0 = {
      ips = [ "10.100.0.1/24" ];
      listenPort = 51820;
      privateKeyFile = "/var/lib/wireguard/private";
      peers = [ { publicKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="; allowedIPs = [ "10.100.0.2/32" ]; } ];
    };
  };
  services.dnsmasq = { enable = true; servers = [ "1.1.1.1" ]; extraConfig = "interface=br0\ndhcp-range=10.1.0.100,10.1.0.200,12h"; };
  services.chrony.enable = true;
  services.openssh.enable = true;
}
