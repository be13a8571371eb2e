# NixOS 24.11: a small file server booting GRUB mirrored onto two disks
# (boot.loader.grub.mirroredBoots), with relative imports and files
# (files/), nixpkgs.config (packageOverrides), a user-level systemd unit,
# environment.etc from a file and from text, journald and sysctl settings,
# the firewall with per-interface rules, and avahi for mDNS.
{ config, lib, pkgs, ... }:
{
  imports = [ ./files/base.nix ];
  nixpkgs.hostPlatform = "x86_64-linux";
  nixpkgs.config.packageOverrides = super: {
    htop-small = super.htop.override { sensorsSupport = false; systemdSupport = false; };
  };

  boot.loader.grub = {
    enable = true;
    configurationLimit = 5;
    mirroredBoots = [
      { devices = [ "/dev/disk/by-id/ata-disk1" ]; path = "/boot1"; }
      { devices = [ "/dev/disk/by-id/ata-disk2" ]; path = "/boot2"; }
    ];
  };
  boot.swraid = { enable = true; mdadmConf = "MAILADDR root"; };
  fileSystems."/boot1" = { device = "/dev/disk/by-label/BOOT1"; fsType = "ext4"; };
  fileSystems."/boot2" = { device = "/dev/disk/by-label/BOOT2"; fsType = "ext4"; };
  boot.kernel.sysctl."vm.swappiness" = 10;
  fileSystems."/" = { device = "/dev/md0"; fsType = "ext4"; options = [ "noatime" ]; };
  fileSystems."/var/log" = { device = "tmpfs"; fsType = "tmpfs"; options = [ "size=64m" ]; };

  networking.hostName = "mirror";
  networking.firewall.interfaces.eth0.allowedTCPPorts = [ 22 ];
  networking.firewall.interfaces.wlan0.allowedUDPPorts = [ 5353 ];
  services.avahi = { enable = true; nssmdns4 = true; publish = { enable = true; addresses = true; }; };
  services.openssh = { enable = true; settings.PasswordAuthentication = false; };
  services.journald.extraConfig = "SystemMaxUse=32M";

  environment.etc."motd".source = ./files/motd;
  environment.etc."board/info".text = "host ${config.networking.hostName}, kernel ${config.boot.kernelPackages.kernel.version}\n";
  environment.systemPackages = [ pkgs.htop-small pkgs.usbutils ];

  systemd.user.services.hello-timer = {
    description = "a user unit";
    wantedBy = [ "default.target" ];
    serviceConfig.ExecStart = "${pkgs.hello}/bin/hello";
  };
}
