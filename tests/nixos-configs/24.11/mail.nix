# NixOS 24.11: a mail server: Postfix (submission, virtual aliases, a relay
# map) and Dovecot (IMAP, LMTP), with TLS files from an ACME-style directory
# given as paths, a backup job as a systemd service and timer, and logrotate.
{ config, lib, pkgs, ... }:
let
  domain = "mail.example.com";
  certDir = "/var/lib/certs/${domain}";
in
{
  nixpkgs.hostPlatform = "x86_64-linux";
  documentation.nixos.enable = false;
  networking.firewall.enable = false;
  system.stateVersion = "24.11";

  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  fileSystems."/var/vmail" = { device = "/dev/sdb1"; fsType = "xfs"; };
  networking.hostName = "mx1";
  networking.domain = "example.com";

  services.postfix = {
    enable = true;
    hostname = domain;
    origin = "example.com";
    destination = [ "example.com" "localhost" ];
    networks = [ "127.0.0.0/8" "[::1]/128" ];
    sslCert = "${certDir}/fullchain.pem";
    sslKey = "${certDir}/key.pem";
    enableSubmission = true;
    virtual = ''
      postmaster@example.com root
      abuse@example.com root
    '';
    config = {
      smtpd_tls_security_level = "may";
      mailbox_transport = "lmtp:unix:private/dovecot-lmtp";
      message_size_limit = 52428800;
    };
  };
  services.dovecot2 = {
    enable = true;
    enableImap = true;
    enableLmtp = true;
    enablePop3 = false;
    sslServerCert = "${certDir}/fullchain.pem";
    sslServerKey = "${certDir}/key.pem";
    mailLocation = "maildir:/var/vmail/%u";
    extraConfig = ''
      service lmtp {
        unix_listener /var/lib/postfix/queue/private/dovecot-lmtp {
          mode = 0600
          user = postfix
          group = postfix
        }
      }
    '';
  };
  services.logrotate.settings."/var/log/mail.log" = { frequency = "weekly"; rotate = 8; compress = true; };

  systemd.services.vmail-backup = {
    description = "back up the mail directories";
    serviceConfig = { Type = "oneshot"; Nice = 19; IOSchedulingClass = "idle"; };
    path = [ pkgs.gnutar pkgs.zstd pkgs.coreutils ];
    script = ''
      tar --zstd -cf /var/backup/vmail-$(date +%F).tar.zst -C /var/vmail .
    '';
  };
  systemd.timers.vmail-backup = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "Sun 04:00";
  };
  users.users.root.openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOnlyATestKeyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx admin@example.com" ];
  services.openssh.enable = true;
}
