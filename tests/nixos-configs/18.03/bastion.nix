# NixOS 18.03: an SSH bastion host: static addressing, openssh with its own
# settings, users with keys and groups, sudo rules, firewall rules of its own,
# files in /etc, a systemd service with a timer, and an overlay.
{ config, lib, pkgs, ... }:
{
  nixpkgs.overlays = [
    (self: super: {
      banner = super.writeText "banner" "authorised use only (${config.networking.hostName})\n";
    })
  ];
  boot.loader.grub.device = "/dev/sda";
  boot.kernelParams = [ "console=ttyS0,115200" ];
  boot.kernel.sysctl."net.ipv4.tcp_syncookies" = 1;
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  fileSystems."/var/log" = { device = "/dev/sdb1"; fsType = "ext4"; options = [ "noatime" ]; };
  swapDevices = [ { device = "/dev/sda2"; } ];

  networking.hostName = "bastion";
  networking.useDHCP = false;
  networking.interfaces.eth0.ipv4.addresses = [ { address = "192.0.2.10"; prefixLength = 24; } ];
  networking.defaultGateway = "192.0.2.1";
  networking.nameservers = [ "192.0.2.53" ];
  networking.firewall = {
    allowedTCPPorts = [ 22 ];
    extraCommands = "iptables -A nixos-fw -p tcp --dport 2222 -s 192.0.2.0/24 -j nixos-fw-accept";
  };
  time.timeZone = "Europe/Paris";

  services.openssh = {
    enable = true;
    ports = [ 22 2222 ];
    passwordAuthentication = false;
    permitRootLogin = "no";
    extraConfig = ''
      AllowGroups ops
      Banner ${pkgs.banner}
    '';
  };
  users.groups.ops = { gid = 4000; };
  users.users = {
    dave = {
      isNormalUser = true;
      uid = 1100;
      extraGroups = [ "ops" "wheel" ];
      openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDaveTestKeyOnlyxxxxxxxxxxxxxxxxxxxxxxxxxxxxx dave@example.org" ];
    };
    eve = {
      isNormalUser = true;
      extraGroups = [ "ops" ];
      shell = pkgs.bashInteractive;
    };
  };
  security.sudo.extraConfig = ''
    %ops ALL=(root) NOPASSWD: /run/current-system/sw/bin/systemctl status *
  '';
  environment.etc."issue.net".source = pkgs.banner;
  environment.etc."ssh/known-hosts-note".text = "managed by NixOS\n";

  systemd.services.log-sweep = {
    description = "remove old session logs";
    serviceConfig.Type = "oneshot";
    script = "find /var/log/sessions -mtime +30 -delete";
  };
  systemd.timers.log-sweep = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "daily";
  };
  environment.systemPackages = with pkgs; [ git vim curl jq ];
}
