# A host running declarative NixOS containers (each one a full NixOS
# evaluation of its own) with private networking and NAT.
{ config, lib, pkgs, ... }:
{
  boot.loader.systemd-boot.enable = true;
  fileSystems."/" = { device = "/dev/sda2"; fsType = "btrfs"; options = [ "subvol=root" "compress=zstd" ]; };
  fileSystems."/boot" = { device = "/dev/sda1"; fsType = "vfat"; };
  networking.hostName = "host";
  networking.nat = { enable = true; internalInterfaces = [ "ve-+" ]; externalInterface = "eth0"; };
  containers.web = {
    autoStart = true;
    privateNetwork = true;
    hostAddress = "10.233.1.1";
    localAddress = "10.233.1.2";
    forwardPorts = [ { containerPort = 80; hostPort = 8080; protocol = "tcp"; } ];
    config = { config, pkgs, ... }: {
      services.nginx.enable = true;
      services.nginx.virtualHosts.default.root = "/var/www";
      networking.firewall.allowedTCPPorts = [ 80 ];
    };
  };
  containers.cache = {
    privateNetwork = true;
    hostAddress = "10.233.2.1";
    localAddress = "10.233.2.2";
    bindMounts."/data" = { hostPath = "/srv/cache"; isReadOnly = false; };
    config = {
      services.redis.enable = true;
      services.redis.bind = "0.0.0.0";
      users.users.cache = { isSystemUser = true; };
    };
  };
}
