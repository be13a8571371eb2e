# NixOS 18.03 config that the reference rejects (an option's type); see ../../README.md
{ ... }: { boot.loader.grub.device = "/dev/vda"; fileSystems."/".device = "/dev/vda1"; users.users.x.uid = "1000"; }
