# Storage-heavy: ZFS (needs hostId), mdadm RAID in the initrd, LVM, kernel
# patches with extra kernel config, NFS server and client mounts, samba,
# smartd, a bind mount and an overlay of the option documentation with all
# modules included.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub = { enable = true; device = "/dev/sda"; mirroredBoots = [ { devices = [ "/dev/sdb" ]; path = "/boot-mirror"; } ]; };
  boot.supportedFilesystems = [ "zfs" "btrfs" ];
  services.zfs.autoScrub.enable = true;
  networking.hostId = "deadbeef";
  boot.initrd.mdadmConf = "ARRAY /dev/md0 devices=/dev/sdc1,/dev/sdd1";
  boot.kernelPatches = [ {
    name = "enable-extra";
    patch = null;
    extraConfig = ''
      DEBUG_INFO n
      BTRFS_FS_POSIX_ACL y
    '';
  } ];
  fileSystems."/" = { device = "tank/root"; fsType = "zfs"; };
  fileSystems."/data" = { device = "/dev/md0"; fsType = "btrfs"; options = [ "compress=zstd" "noatime" ]; };
  fileSystems."/srv/export" = { device = "/data/export"; options = [ "bind" ]; };
  fileSystems."/mnt/remote" = { device = "nas:/volume"; fsType = "nfs"; options = [ "x-systemd.automount" "noauto" ]; };
  services.nfs.server = { enable = true; exports = "/srv/export 10.0.0.0/8(rw,no_subtree_check)"; };
  services.samba = { enable = true; shares.public = { path = "/srv/export"; "read only" = "no"; browseable = "yes"; }; };
  services.smartd.enable = true;
  documentation.nixos.includeAllModules = true;
  networking.hostName = "nas";
}
