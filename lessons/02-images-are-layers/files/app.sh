echo "Hello from an image I built!"
echo "Installed: $(tr '\n' ' ' < installed.txt)"
