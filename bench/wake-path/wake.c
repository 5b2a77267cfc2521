// bench/wake-path/wake.c — how late a C thread wakes for a periodic deadline, by wake-up mechanism,
// under cyclictest's conditions (SCHED_FIFO 99, mlockall, /dev/cpu_dma_latency 0). It separates
// what the kernel's timerfd + epoll path costs from what the Node process adds (run.sh).
//   wake MODE INTERVAL_US SAMPLES
//   MODE 0: clock_nanosleep(TIMER_ABSTIME)   (what cyclictest does)
//        1: blocking read() of an ABSTIME timerfd re-armed each period
//        2: the timerfd in an epoll set, epoll_wait
//        3: that epoll set nested in a second epoll set (ktimers' shape: its epoll fd sits in
//           libuv's), then the inner epoll_wait(0) as ktimers' Wake() does
#define _GNU_SOURCE
#include <sys/timerfd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
static int64_t now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000LL+t.tv_nsec;}
static int cmp(const void*a,const void*b){int64_t x=*(int64_t*)a,y=*(int64_t*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  int mode=atoi(argv[1]); // 0 nanosleep, 1 timerfd read, 2 epoll, 3 nested epoll
  int64_t iv=atoll(argv[2])*1000; int n=atoi(argv[3]);
  struct sched_param sp={.sched_priority=99}; sched_setscheduler(0,SCHED_FIFO,&sp); mlockall(MCL_CURRENT|MCL_FUTURE);
  int dma=open("/dev/cpu_dma_latency",O_WRONLY); int32_t z=0; if(dma>=0) write(dma,&z,4);
  int tfd=timerfd_create(CLOCK_MONOTONIC,TFD_NONBLOCK|TFD_CLOEXEC);
  int ep1=epoll_create1(0), ep2=epoll_create1(0);
  struct epoll_event ev={.events=EPOLLIN}; epoll_ctl(ep1,EPOLL_CTL_ADD,tfd,&ev);
  epoll_ctl(ep2,EPOLL_CTL_ADD,ep1,&ev);
  int64_t *lat=malloc(n*8); int64_t next=now()+iv;
  for(int i=0;i<n;i++){
    struct timespec ts={next/1000000000LL,next%1000000000LL};
    if(mode==0){ clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&ts,NULL);}
    else { struct itimerspec its={{0,0},ts}; timerfd_settime(tfd,TFD_TIMER_ABSTIME,&its,NULL);
      struct epoll_event out[4];
      if(mode==1){ int fl=fcntl(tfd,F_GETFL); fcntl(tfd,F_SETFL,fl&~O_NONBLOCK); uint64_t x; read(tfd,&x,8); fcntl(tfd,F_SETFL,fl);}
      else if(mode==2) epoll_wait(ep1,out,4,-1);
      else { epoll_wait(ep2,out,4,-1); epoll_wait(ep1,out,4,0);} }
    int64_t t=now(); lat[i]=t-next; next+=iv; while(next<t) next+=iv;
  }
  qsort(lat,n,8,cmp);
  printf("C mode %d: p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f us\n",mode,lat[n/2]/1e3,lat[n*9/10]/1e3,lat[n*99/100]/1e3,lat[n*999/1000]/1e3,lat[n-1]/1e3);
}
