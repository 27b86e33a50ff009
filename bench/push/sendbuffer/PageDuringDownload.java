import java.net.URI;
import java.net.http.*;
import java.security.cert.X509Certificate;
import javax.net.ssl.*;
/** A page requested on the same HTTP/2 connection DELAY ms into a large download: how long the page takes. */
public class PageDuringDownload {
  public static void main(String[] a) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[]{new X509TrustManager(){public void checkClientTrusted(X509Certificate[] c,String s){} public void checkServerTrusted(X509Certificate[] c,String s){} public X509Certificate[] getAcceptedIssuers(){return new X509Certificate[0];}}}, null);
    String base = a[0]; int delay = Integer.parseInt(a[1]);
    for (int i = 0; i < Integer.parseInt(a[2]); i++) {
      HttpClient c = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_2).build();
      c.send(HttpRequest.newBuilder(URI.create(base + "/style.css")).build(), HttpResponse.BodyHandlers.discarding());
      long t0 = System.nanoTime();
      var big = c.sendAsync(HttpRequest.newBuilder(URI.create(base + "/big.bin")).build(), HttpResponse.BodyHandlers.discarding());
      Thread.sleep(delay);
      long t1 = System.nanoTime();
      c.send(HttpRequest.newBuilder(URI.create(base + "/index.html?" + i)).build(), HttpResponse.BodyHandlers.ofByteArray());
      long t2 = System.nanoTime();
      big.join();
      long t3 = System.nanoTime();
      System.out.printf("page %.0f ms (requested %d ms into the big download), big %.0f ms%n", (t2 - t1) / 1e6, delay, (t3 - t0) / 1e6);
    }
  }
}
