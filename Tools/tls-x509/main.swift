print("tls-x509")
