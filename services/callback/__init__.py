"""Web callback ("connect two"): RequestCallback originates leg A over AMI and bridges
it to leg B when A answers; both legs are authorized and billed to the account
(docs/onnet_callback.md, "Web callback"). Spyne-free.
"""
