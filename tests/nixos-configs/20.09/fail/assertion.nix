# NixOS 20.09 config that the reference rejects; see ../README.md
{ lib, ... }: { boot.loader.grub.device = "/dev/sda"; fileSystems."/".device = "/dev/sda1"; boot.supportedFilesystems = [ "zfs" ]; networking.hostId = "deadbeef"; boot.zfs.forceImportRoot = false; }
