#!/usr/bin/perl
# Sign or verify a message from stdin with Perl's Mail::DKIM (interop tests).
#   mail_dkim.pl sign KEYFILE SELECTOR DOMAIN ALGORITHM CANON HEADERS
#       prints the DKIM-Signature field
#   mail_dkim.pl verify DNSPORT
#       prints "RESULT DETAIL" for each signature, keys from 127.0.0.1:DNSPORT
use strict;
use warnings;
use Mail::DKIM::Signer;
use Mail::DKIM::Signature;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

binmode STDIN;
binmode STDOUT;
my $mode = shift @ARGV;
my $msg = do { local $/; <STDIN> };
$msg =~ s/\015?\012/\015\012/g;

if ($mode eq 'sign') {
    my ($keyfile, $sel, $domain, $alg, $canon, $headers) = @ARGV;
    my $policy = sub {
        my $dkim = shift;
        $dkim->add_signature(Mail::DKIM::Signature->new(
            Algorithm => $alg, Method => $canon, Headers => $headers,
            Domain => $domain, Selector => $sel));
        return;
    };
    my $dkim = Mail::DKIM::Signer->new(Policy => $policy, KeyFile => $keyfile);
    $dkim->PRINT($msg);
    $dkim->CLOSE;
    print $dkim->signature->as_string, "\015\012";
} elsif ($mode eq 'verify') {
    my ($port) = @ARGV;
    my $res = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port,
                                      recurse => 1, retry => 1, udp_timeout => 3,
                                      tcp_timeout => 3, searchlist => []);
    Mail::DKIM::DNS::resolver($res);
    my $dkim = Mail::DKIM::Verifier->new();
    $dkim->PRINT($msg);
    $dkim->CLOSE;
    my @sigs = $dkim->signatures;
    print "none\n" unless @sigs;
    for my $sig (@sigs) {
        my $d = $sig->result_detail // '';
        print $sig->result, " ", $d, "\n";
    }
} else {
    die "usage: $0 sign|verify ...\n";
}
