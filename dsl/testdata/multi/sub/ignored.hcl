this is not valid HCL and must not be read, because loading a directory does not recurse {
