# NixOS 20.09 config that the reference rejects; see ../README.md
{ ... }: { boot.loader.grub.device = "/dev/sda"; fileSystems."/".device = "/dev/sda1"; services.postgresql.settings.x = 1; }
