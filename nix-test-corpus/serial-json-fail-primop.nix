builtins.toJSON { a = builtins.toXML; }
