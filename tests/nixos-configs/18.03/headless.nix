# NixOS 18.03: a stripped-down headless VM (no polkit, no udisks2, no
# manual, no X libraries), DHCP on one interface, a serial console, nix
# settings and a heartbeat job (`startAt`). Without polkit nothing in the system is built
# from texlive (polkit's gtk-doc -> dblatex -> texlive.combine, which
# uses builtins.toPath on derivations).
{ lib, pkgs, ... }:
{
  boot.loader.grub.device = "/dev/vda";
  boot.loader.grub.extraConfig = "serial --unit=0 --speed=115200; terminal_output serial";
  boot.kernelParams = [ "console=ttyS0" ];
  boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_blk" ];
  fileSystems."/" = { device = "/dev/vda1"; fsType = "ext4"; autoResize = true; };

  security.polkit.enable = false;
  services.udisks2.enable = false;
  services.nixosManual.enable = false;
  environment.noXlibs = true;
  i18n.supportedLocales = [ "en_US.UTF-8/UTF-8" ];

  networking.hostName = "headless";
  networking.useDHCP = false;
  networking.interfaces.ens3.useDHCP = true;
  networking.firewall.allowPing = false;

  nix.maxJobs = 4;
  nix.gc = { automatic = true; dates = "weekly"; options = "--delete-older-than 14d"; };
  systemd.services.heartbeat = {
    serviceConfig.Type = "oneshot";
    script = "date >> /var/log/heartbeat";
    startAt = "*:0/5";
  };
  users.users.root.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootTestKeyOnlyxxxxxxxxxxxxxxxxxxxxxxxxxxxxx root@example.org" ];
  services.openssh.enable = true;
}
