# NixOS 24.11: a small router on systemd-networkd: a WAN uplink, a LAN bridge
# over two ports, a VLAN, NAT, a WireGuard tunnel, dnsmasq for DHCP/DNS and
# nftables rules. The firewall's nixos-firewall-tool is a
# writeShellApplication: shellcheck (Haskell, missing in this tree) is skipped
# by the overlay, as on platforms without GHC.
{ lib, pkgs, ... }:
{
  nixpkgs.hostPlatform = "x86_64-linux";
  nixpkgs.overlays = [ (final: prev: { shellcheck-minimal = { compiler.meta.platforms = [ ]; }; }) ];
  documentation.nixos.enable = false;
  system.stateVersion = "24.11";

  boot.loader.grub.device = "/dev/sda";
  boot.kernel.sysctl."net.ipv4.conf.all.forwarding" = true;
  boot.kernel.sysctl."net.ipv6.conf.all.forwarding" = true;
  fileSystems."/" = { device = "/dev/disk/by-label/root"; fsType = "ext4"; };

  networking.hostName = "gw";
  networking.useDHCP = false;
  networking.useNetworkd = true;
  networking.nftables.enable = true;
  networking.nat = {
    enable = true;
    externalInterface = "wan0";
    internalInterfaces = [ "br-lan" "lan.20" ];
    forwardPorts = [ { sourcePort = 2222; destination = "192.168.10.5:22"; proto = "tcp"; } ];
  };
  networking.firewall = {
    allowedUDPPorts = [ 51820 ];
    interfaces.br-lan.allowedUDPPorts = [ 53 67 ];
    interfaces.br-lan.allowedTCPPorts = [ 22 53 ];
  };
  networking.wireguard.interfaces.wg0 = {
    ips = [ "10.100.0.1/24" ];
    listenPort = 51820;
    privateKeyFile = "/var/lib/wireguard/private";
    peers = [ { publicKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="; allowedIPs = [ "10.100.0.2/32" ]; } ];
  };

  systemd.network = {
    enable = true;
    netdevs."10-br-lan".netdevConfig = { Kind = "bridge"; Name = "br-lan"; };
    netdevs."20-lan.20".netdevConfig = { Kind = "vlan"; Name = "lan.20"; };
    netdevs."20-lan.20".vlanConfig.Id = 20;
    networks."10-wan" = {
      matchConfig.Name = "wan0";
      networkConfig = { DHCP = "ipv4"; IPv6AcceptRA = true; };
      linkConfig.RequiredForOnline = "routable";
    };
    networks."20-lan-ports" = {
      matchConfig.Name = "lan1 lan2";
      networkConfig.Bridge = "br-lan";
    };
    networks."30-br-lan" = {
      matchConfig.Name = "br-lan";
      address = [ "192.168.10.1/24" ];
      vlan = [ "lan.20" ];
      networkConfig.ConfigureWithoutCarrier = true;
    };
    networks."40-lan.20" = {
      matchConfig.Name = "lan.20";
      address = [ "192.168.20.1/24" ];
    };
  };

  services.dnsmasq = {
    enable = true;
    settings = {
      interface = [ "br-lan" "lan.20" ];
      bind-interfaces = true;
      dhcp-range = [ "192.168.10.100,192.168.10.200,12h" "192.168.20.100,192.168.20.200,1h" ];
      dhcp-host = [ "aa:bb:cc:dd:ee:ff,192.168.10.5,nas" ];
      server = [ "9.9.9.9" "1.1.1.1" ];
      domain = "home.arpa";
    };
  };
  services.openssh = { enable = true; openFirewall = false; settings.PermitRootLogin = "prohibit-password"; };
  services.resolved.enable = false;
  environment.systemPackages = with pkgs; [ tcpdump ethtool iperf3 wireguard-tools ];
}
