/* bare-fcgi.c - the reference FastCGI responder for bench/http.
 *
 * The least a libfcgi process can do per request: accept, write a fixed
 * JSON body, finish.  Our /health is measured as a fraction of this.
 */
#include <fcgiapp.h>
#include <string.h>

int
main(void)
{
	static const char resp[] = "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 15\r\n\r\n"
	    "{\"status\":\"ok\"}";
	FCGX_Request req;

	if (FCGX_Init() != 0)
		return 1;
	FCGX_InitRequest(&req, 0, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(resp, (int)(sizeof(resp) - 1), req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
