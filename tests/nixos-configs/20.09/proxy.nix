# A reverse proxy with static networking: several nginx virtual hosts, an
# openssh daemon on a custom port, a firewall with TCP/UDP ports and ranges.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub.enable = true;
  boot.loader.grub.version = 2;
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/disk/by-label/nixos"; fsType = "ext4"; };
  networking = {
    hostName = "proxy";
    domain = "example.net";
    useDHCP = false;
    interfaces.eth0.ipv4.addresses = [ { address = "192.0.2.10"; prefixLength = 24; } ];
    interfaces.eth0.ipv6.addresses = [ { address = "2001:db8::10"; prefixLength = 64; } ];
    interfaces.eth1.useDHCP = true;
    defaultGateway = "192.0.2.1";
    nameservers = [ "192.0.2.53" "2001:db8::53" ];
    extraHosts = "192.0.2.20 backend.internal\n";
    firewall = {
      enable = true;
      allowedTCPPorts = [ 80 443 2222 ];
      allowedUDPPortRanges = [ { from = 60000; to = 61000; } ];
      allowPing = false;
      logRefusedConnections = false;
    };
  };
  services.openssh = {
    enable = true;
    ports = [ 2222 ];
    permitRootLogin = "no";
    extraConfig = "MaxAuthTries 3";
  };
  services.nginx = {
    enable = true;
    recommendedProxySettings = true;
    recommendedTlsSettings = true;
    recommendedOptimisation = true;
    appendHttpConfig = "server_names_hash_bucket_size 64;";
    upstreams.backend.servers."192.0.2.20:8080" = { };
    virtualHosts = {
      "www.example.net" = {
        serverAliases = [ "example.net" ];
        locations."/".proxyPass = "http://backend";
        locations."/static/".root = "/srv/static";
      };
      "status.example.net" = {
        listen = [ { addr = "127.0.0.1"; port = 8081; } ];
        locations."/".extraConfig = "stub_status on;";
      };
    };
  };
  environment.systemPackages = [ pkgs.tcpdump pkgs.jq ];
}
